#if canImport(Glibc)
import Glibc
#endif
import CHuskShim

/// A host program run to its end (posix_spawn): standard input /dev/null,
/// standard output captured, standard error captured or /dev/null, no
/// other descriptor of husk's, an
/// environment of its own, and a time limit. Foundation's Process is in
/// swift-corelibs-foundation, which links ICU into every husk start.
public struct ChildProcess {
    public enum Termination: Equatable, Sendable {
        case exited(Int32)
        case signaled(Int32)
    }

    public var termination: Termination
    public var output: [UInt8]
    public var errorOutput: [UInt8]

    public var succeeded: Bool { termination == .exited(0) }

    /// Runs `program` (an absolute path) with `arguments`; after `timeout`
    /// seconds it gets SIGKILL. Throws only when it cannot be started.
    public static func run(_ program: String, _ arguments: [String], environment: [String: String],
                           captureErrors: Bool = false, timeout: Int = 600) throws -> ChildProcess {
        var outPipe: [Int32] = [-1, -1], errPipe: [Int32] = [-1, -1]
        guard husk_pipe_cloexec(&outPipe) == 0 else { throw HuskError.io(errno, program, doing: "cannot run") }
        if captureErrors, husk_pipe_cloexec(&errPipe) != 0 {
            let error = errno
            close(outPipe[0]); close(outPipe[1])
            throw HuskError.io(error, program, doing: "cannot run")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        if captureErrors {
            posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        } else {
            posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        }
        // Only 0-2: none of the descriptors husk's caller passed it (DESIGN.md §3).
        husk_spawn_close_from(&actions, 3)
        // Husk's own signal handlers and mask are not the program's.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t(), all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([program] + arguments).map { strdup($0) }
        let envp = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") }
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, program, &actions, &attributes, argv + [nil], envp + [nil])
        close(outPipe[1])
        if captureErrors { close(errPipe[1]) }
        guard status == 0 else {
            close(outPipe[0])
            if captureErrors { close(errPipe[0]) }
            throw HuskError.io(status, program, doing: "cannot run")
        }
        var result = ChildProcess(termination: .exited(0), output: [], errorOutput: [])
        readUntilClosed(out: outPipe[0], err: captureErrors ? errPipe[0] : -1, pid: pid,
                        deadline: time(nil) + timeout, into: &result)
        var waitStatus: Int32 = 0
        while waitpid(pid, &waitStatus, 0) < 0 && errno == EINTR {}
        let signal = waitStatus & 0x7F
        result.termination = signal == 0 ? .exited((waitStatus >> 8) & 0xFF) : .signaled(signal)
        return result
    }

    /// Reads both pipes to their ends (a program that fills one while Husk
    /// waits on the other would otherwise never finish), killing the
    /// program at the deadline.
    private static func readUntilClosed(out: Int32, err: Int32, pid: pid_t, deadline: Int,
                                        into result: inout ChildProcess) {
        var fds = [pollfd(fd: out, events: Int16(POLLIN), revents: 0)]
        if err >= 0 { fds.append(pollfd(fd: err, events: Int16(POLLIN), revents: 0)) }
        var buffer = [UInt8](repeating: 0, count: 65536)
        var killed = false
        while fds.contains(where: { $0.fd >= 0 }) {
            let left = deadline - time(nil)
            if left <= 0 && !killed {
                kill(pid, SIGKILL)
                killed = true
            }
            let ready = poll(&fds, nfds_t(fds.count), killed ? 1000 : Int32(min(left, 60)) * 1000)
            if ready < 0 && errno != EINTR { break }
            for index in fds.indices where fds[index].fd >= 0 && fds[index].revents != 0 {
                let n = buffer.withUnsafeMutableBytes { read(fds[index].fd, $0.baseAddress, $0.count) }
                if n > 0 {
                    if fds[index].fd == out { result.output += buffer[0..<n] } else { result.errorOutput += buffer[0..<n] }
                } else if n == 0 || errno != EINTR {
                    close(fds[index].fd)
                    fds[index].fd = -1
                }
            }
            if killed && ready == 0 { break }  // a grandchild holds the pipe open
        }
        for fd in fds where fd.fd >= 0 { close(fd.fd) }
    }
}
