import Glibc
import Testing
import HuskCore

/// ChildProcess: what Husk runs on the host (ldconfig, husk-rpmdb, gpgconf).
struct ChildProcessTests {
    @Test func capturesOutputErrorsAndStatus() throws {
        let run = try ChildProcess.run("/bin/sh", ["-c", "echo out; echo err >&2; exit 3"], environment: [:],
                                       captureErrors: true)
        #expect(run.termination == .exited(3))
        #expect(String(decoding: run.output, as: UTF8.self) == "out\n")
        #expect(String(decoding: run.errorOutput, as: UTF8.self) == "err\n")
    }

    @Test func getsOnlyItsEnvironmentAndNoOtherDescriptor() throws {
        let inherited = open("/dev/null", O_RDONLY)  // not close-on-exec
        defer { close(inherited) }
        let run = try ChildProcess.run("/bin/sh", ["-c", "echo \"$A\"; test -e /proc/self/fd/\(inherited) && echo leaked"],
                                       environment: ["A": "b"])
        #expect(String(decoding: run.output, as: UTF8.self) == "b\n")
    }

    @Test func isKilledAtItsTimeLimit() throws {
        let run = try ChildProcess.run("/bin/sleep", ["30"], environment: [:], timeout: 1)
        #expect(run.termination == .signaled(SIGKILL))
    }
}
