#ifndef HUSK_CFUZZDRIVER_H
#define HUSK_CFUZZDRIVER_H
/* Runs libFuzzer on the process's LLVMFuzzerTestOneInput with these arguments
 * (-max_total_time=…, corpus directories, …) and returns its exit status. */
int husk_fuzz_run(int argc, char **argv);

/* Tells libFuzzer how far an input got: each (probe, power of two of value)
 * pair is a feature of its own. probe < HUSK_FUZZ_PROBES. */
#define HUSK_FUZZ_PROBES 32
void husk_fuzz_progress(unsigned probe, unsigned long long value);
#endif
