#if canImport(Glibc)
import Glibc
#endif
import CHuskShim
import HuskCore

/// Finds `husk-starter` and hands it the plan: the plan goes into a memfd
/// that becomes fd 3, and this process becomes the starter (execv), so
/// signals, the terminal and the exit status belong to the container.
public enum Launcher {
    /// `HUSK_STARTER`, then beside the running executable, then `../libexec/husk/`.
    public static func starterPath(environment: [String: String]) throws -> String {
        if let path = environment["HUSK_STARTER"], !path.isEmpty {
            guard access(path, X_OK) == 0 else {
                throw HuskError(.notFound, "HUSK_STARTER=\(path) is not an executable file")
            }
            return path
        }
        let executable = executablePath()
        let directory = FilePath.directory(of: executable)
        for candidate in ["\(directory)/husk-starter", "\(FilePath.directory(of: directory))/libexec/husk/husk-starter"]
        where access(candidate, X_OK) == 0 {
            return candidate
        }
        throw HuskError(.notFound, "husk-starter not found beside \(executable) or in ../libexec/husk/ (install both files, or set HUSK_STARTER)")
    }

    static func executablePath() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return CommandLine.arguments.first ?? "husk" }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The plan in a memfd, positioned at its start.
    static func planDescriptor(_ plan: LaunchPlan) throws -> Int32 {
        let bytes = plan.encoded()
        let fd = husk_memfd("husk-launch-plan")
        guard fd >= 0 else { throw HuskError.io(errno, "memfd", doing: "cannot pass the launch plan through") }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, bytes.count - written) }
            guard n > 0 else { throw HuskError.io(errno, "memfd", doing: "cannot write the launch plan to") }
            written += n
        }
        lseek(fd, 0, SEEK_SET)
        return fd
    }

    /// Starts the starter in its own session with output to files; returns its pid.
    public static func spawnDetached(_ plan: LaunchPlan, starter: String, output: String, errors: String) throws -> Int32 {
        let fd = try planDescriptor(plan)
        defer { close(fd) }
        let out = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        let err = open(errors, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        defer {
            if out >= 0 { close(out) }
            if err >= 0 { close(err) }
        }
        guard out >= 0, err >= 0 else { throw HuskError.io(errno, output, doing: "cannot create") }
        let pid = husk_spawn_detached(starter, fd, out, err)
        guard pid > 0 else { throw HuskError.io(errno, starter, doing: "cannot start") }
        return pid
    }

    public static func exec(_ plan: LaunchPlan, starter: String) throws -> Never {
        let fd = try planDescriptor(plan)
        guard husk_pass_as_fd3(fd) == 0 else { throw HuskError.io(errno, "fd 3", doing: "cannot pass the launch plan as") }
        fflush(nil)  // all C streams: nothing buffered may be lost by execv
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup("husk-starter"), nil]
        execv(starter, argv)
        throw HuskError.io(errno, starter, doing: "cannot execute")
    }
}
