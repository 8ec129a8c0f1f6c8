#if canImport(Glibc)
import Glibc
#endif
import CFuzzDriver

// libFuzzer calls LLVMFuzzerTestOneInput (FuzzImage.swift) once per input.
exit(husk_fuzz_run(CommandLine.argc, CommandLine.unsafeArgv))
