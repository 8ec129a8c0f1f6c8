#if canImport(Glibc)
import Glibc
#endif
import CHuskShim
import HuskCore

/// Finds `husk-starter` and hands it the plan: the plan goes into a memfd
/// whose number the starter is told, and this process becomes the starter
/// (execv), so signals, the terminal and the exit status belong to the
/// container.
public enum Launcher {
    /// `HUSK_STARTER`, then beside the running executable, then `../libexec/husk/`.
    public static func starterPath(environment: [String: String]) throws -> String {
        try HelperProgram.path("husk-starter", variable: "HUSK_STARTER", environment: environment)
    }

    /// The descriptors (3 and up) husk's caller passed in: they, and no
    /// other, reach the container's command.
    public static var inheritedDescriptors: [Int32] {
        launcherDescriptors ?? (0..<husk_inherited_fd_count()).map { husk_inherited_fd($0) }.filter { fcntl($0, F_GETFD) >= 0 }
    }

    /// In a warm planner's child: the launcher's inherited descriptors,
    /// which are open in the launcher, not here.
    nonisolated(unsafe) public static var launcherDescriptors: [Int32]?

    /// In a warm planner's child: where `exec` sends the plan (its memfd,
    /// the descriptors the starter keeps, the starter's path) instead of
    /// becoming the starter; the launcher becomes it.
    nonisolated(unsafe) public static var handOver: ((_ plan: Int32, _ keep: [Int32], _ starter: String) -> Never)?

    /// The plan in a memfd (close-on-exec, 3 or more), positioned at its start.
    static func planDescriptor(_ plan: LaunchPlan) throws -> Int32 {
        let bytes = try plan.encoded()
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

    /// Starts the starter in its own session with output to files; returns
    /// its pid. The files are created afresh (`O_EXCL|O_NOFOLLOW`): a
    /// planted file or symlink is refused, never written through.
    public static func spawnDetached(_ plan: LaunchPlan, starter: String, output: String, errors: String) throws -> Int32 {
        let fd = try planDescriptor(plan)
        defer { close(fd) }
        var opened: [Int32] = []
        defer { opened.forEach { close($0) } }
        for path in [output, errors] {
            let log = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            guard log >= 0 else { throw HuskError.io(errno, path, doing: "cannot create the instance log") }
            opened.append(log)
        }
        let pid = husk_spawn_detached(starter, fd, opened[0], opened[1])
        guard pid > 0 else { throw HuskError.io(errno, starter, doing: "cannot start") }
        return pid
    }

    /// The same with output and errors going nowhere, and no copy of this
    /// process made on the way (`ImageServer.prestart`).
    static func spawnQuiet(_ plan: LaunchPlan, starter: String) throws -> Int32 {
        let fd = try planDescriptor(plan)
        defer { close(fd) }
        let pid = husk_spawn_quiet(starter, fd)
        guard pid > 0 else { throw HuskError.io(errno, starter, doing: "cannot start") }
        return pid
    }

    /// Waits for PID, a child that leaves at once, whatever its status.
    static func reap(_ pid: Int32) {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    }

    /// Starts the starter as a child with this process's standard input,
    /// output and error (and the plan's kept descriptors); returns its pid.
    public static func spawn(_ plan: LaunchPlan, starter: String) throws -> Int32 {
        let fd = try planDescriptor(plan)
        defer { close(fd) }
        let pid = plan.keptDescriptors.withUnsafeBufferPointer {
            husk_spawn_child(starter, fd, $0.baseAddress, Int32($0.count))
        }
        guard pid > 0 else { throw HuskError.io(errno, starter, doing: "cannot start") }
        return pid
    }

    /// Waits for the starter PID; its exit status as a shell reports it
    /// (the command's, or 128+N for signal N).
    public static func wait(for pid: Int32) throws -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw HuskError.io(errno, "husk-starter", doing: "cannot wait for") }
        }
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }

    /// Becomes the starter. Only the caller's descriptors (the plan's
    /// `keptDescriptors`) and the plan itself survive the exec.
    public static func exec(_ plan: LaunchPlan, starter: String) throws -> Never {
        let fd = try planDescriptor(plan)
        if let handOver {
            fflush(nil)
            handOver(fd, plan.keptDescriptors, starter)
        }
        let keep = plan.keptDescriptors + [fd]
        guard keep.withUnsafeBufferPointer({ husk_cloexec_except($0.baseAddress, Int32($0.count)) }) == 0,
              husk_keep_across_exec(fd) == 0 else {
            throw HuskError.io(errno, "the launch plan", doing: "cannot pass on")
        }
        fflush(nil)  // all C streams: nothing buffered may be lost by execv
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup("husk-starter"), strdup("--plan-fd=\(fd)"), nil]
        execv(starter, argv)
        throw HuskError.io(errno, starter, doing: "cannot execute")
    }
}
