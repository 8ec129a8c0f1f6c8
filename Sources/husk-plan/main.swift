// husk-plan: the program that starts containers. The launcher (husk) runs it
// for every command and start its warm planner does not take, and it is
// that planner (WarmPlanner). It reads a container start's
// command line (RunCommandLine) and starts it; it links no registry client,
// argument parsing by reflection or TOML writer beyond what a start needs,
// so that a start loads and relocates half as much (README, "Where a
// start's time goes"). Everything else — other commands, --help, docker://
// images, command lines only ArgumentParser reads — it hands, unchanged,
// to husk-full beside it, the program with every command.
import CHuskShim
import FoundationEssentials
import Glibc
import HuskCore
import HuskRunCommand
import HuskRuntime

/// Replaces this process with husk-full, same arguments and environment.
func handOver() -> Never {
    do {
        let full = try HelperProgram.path("husk-full", variable: "HUSK_FULL",
                                          environment: ProcessInfo.processInfo.environment)
        let arguments = [full] + Array(CommandLine.arguments.dropFirst())
        var pointers = arguments.map { strdup($0) } + [nil]
        // husk-full takes what it inherits for the caller's descriptors (DESIGN.md §3, 4).
        guard husk_cloexec_all_but_inherited() == 0 else {
            CommandOutcome.fail(HuskError(.io, "/proc/self/fd: cannot list this process's descriptors (is /proc mounted?)"),
                                startsContainer: false)
        }
        execv(full, &pointers)
        CommandOutcome.fail(HuskError.io(errno, full, doing: "cannot run"), startsContainer: false)
    } catch {
        CommandOutcome.fail(error as? HuskError ?? HuskError(.notFound, "\(error)"), startsContainer: false)
    }
}

CommandOutcome.setUpProcess()
let arguments = CommandLine.arguments
if arguments.count == 5, arguments[1] == WarmPlanner.serveFlag, let idle = Int(arguments[3]) {
    WarmPlanner.serve(socket: arguments[2], idle: idle, image: arguments[4])
}
if let commandLine = RunCommandLine(Array(arguments.dropFirst())),
   !commandLine.arguments.image.hasPrefix("docker://") {
    WarmPlanner.startIfAbsent(commandLine, environment: ProcessInfo.processInfo.environment)
    do {
        try commandLine.start()
    } catch let error as HuskError where error.code == .noRegistryClient {
        // Not reached today (an instance records its image's local path), but
        // any docker:// image found on the way belongs to husk-full; nothing has started.
        handOver()
    } catch {
        CommandOutcome.fail(error as? HuskError ?? HuskError(.io, "\(error)"), startsContainer: true)
    }
}
handOver()
