import FoundationEssentials
import Glibc
import HuskCore
import HuskSystem
import Logging

/// This user's image server on this node (husk-starter's server.c): the
/// first run of an image mounts it and keeps it, with its user and mount
/// namespaces, for later runs of the same image and id mapping, which join
/// it instead of mounting the image again (warm caches, one FUSE server).
public enum ImageServer {
    /// Seconds a server outlives its last container by default.
    public static let defaultIdle = 30

    /// `HUSK_IDLE` (seconds, default 30; 0: every run mounts its image
    /// itself, as without servers).
    public static func idleSeconds(environment: [String: String]) throws -> Int {
        guard let text = environment["HUSK_IDLE"], !text.isEmpty else { return defaultIdle }
        guard let seconds = Int(text), (0...7 * 86400).contains(seconds) else {
            throw HuskError(.usage, "HUSK_IDLE=\(text): not a number of seconds from 0 to 604800 (0 turns image servers off)")
        }
        return seconds
    }

    /// `$runtime/servers`, where servers keep their sockets (private to the
    /// user, and hidden from containers with the rest of the runtime directory).
    public static func directory(environment: [String: String]) -> String {
        HuskPaths(environment: environment).runtime + "/servers"
    }

    /// Sets `plan.server` and `plan.idle` when `plan` can use a server: a
    /// squashfs image and servers on.
    public static func attach(to plan: inout LaunchPlan, contentKey: String, environment: [String: String]) throws {
        guard let (prefix, idle) = try placement(of: plan, contentKey: contentKey, environment: environment) else { return }
        plan.server = prefix
        plan.idle = idle
    }

    /// The server `plan` would use (its path prefix) and its idle time, or
    /// nil when it uses none.
    static func placement(of plan: LaunchPlan, contentKey: String,
                          environment: [String: String]) throws -> (prefix: String, idle: Int)? {
        let idle = try idleSeconds(environment: environment)
        guard idle > 0, let key = key(of: plan, contentKey: contentKey, environment: environment) else { return nil }
        // The runtime directory above it was prepared with the rest of
        // Husk's state when the plan was made.
        let prefix = try PrivateDirectory.prepare(directory(environment: environment), what: "image servers") + "/" + key
        // The starter's limit: PREFIX.sock must fit a socket address.
        guard prefix.utf8.count <= 96 else {
            HuskLog.logger.debug("no image server: \(prefix) is too long for a socket address")
            return nil
        }
        return (prefix, idle)
    }

    /// A first run: when `plan` (its image, ids and namespaces settled, the
    /// site policy passed) will use a server and none has a socket yet,
    /// starts one while the caller goes on planning (a starter with
    /// `prestart`, its output going nowhere). Returns the pid to reap before
    /// the container's starter runs (it leaves at once), or nil. The
    /// container's starter joins the server this starts, or starts one
    /// itself and says what is wrong: nothing here may fail a run.
    public static func prestart(for plan: LaunchPlan, contentKey: String, environment: [String: String],
                                starter: String) -> Int32? {
        // A socket there (a repeat run, the common case): nothing to start.
        // Looked for before the directory is checked, which attach does for
        // every run: this only decides whether to start early.
        guard (try? idleSeconds(environment: environment)) ?? 0 > 0,
              let key = key(of: plan, contentKey: contentKey, environment: environment),
              access(directory(environment: environment) + "/" + key + ".sock", F_OK) != 0,
              let (prefix, idle) = try? placement(of: plan, contentKey: contentKey, environment: environment),
              let filter = try? SeccompFilter.fuseServer().program else { return nil }
        var server = plan
        server.server = prefix
        server.idle = idle
        server.prestart = true
        server.serverSeccomp = filter
        server.arguments = ["true"]  // a plan names a command; this one runs none
        return try? Launcher.spawnQuiet(server, starter: starter)
    }

    /// Names what a server serves and how: the image file (its identity on
    /// disk, so a replaced file gets a new server, and its content key),
    /// the offset, the id mapping its user namespace was made with, the
    /// mount namespace it copies; in
    /// a Slurm job also the job and step: a server lives in the cgroup of
    /// the step that started it, and Slurm ends it with that step (another
    /// step's containers would lose their image), and its CPU time is that
    /// step's. Nil when the file cannot be stat'ed (the starter then says why).
    /// Nil also when `plan` uses no server: a directory (extract mode has
    /// no mount to share), or an instance's namespaces.
    static func key(of plan: LaunchPlan, contentKey: String, environment: [String: String]) -> String? {
        guard plan.join == nil, case .squashfs(let path, let offset) = plan.root else { return nil }
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        var parts = [path, "\(st.st_dev)", "\(st.st_ino)", "\(st.st_size)",
                     "\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)", "\(offset)", contentKey,
                     "\(plan.outsideUID):\(plan.outsideGID)", "\(plan.insideUID):\(plan.insideGID)",
                     "fakeroot=\(plan.fakeroot)"]
        // A server shows its containers the mounts of the namespace it was
        // started from: a process with other mounts (a job's private /tmp, a
        // service's PrivateTmp) gets a server of its own.
        var ns = stat()
        if stat("/proc/self/ns/mnt", &ns) == 0 { parts.append("mnt=\(ns.st_dev):\(ns.st_ino)") }
        if let job = environment["SLURM_JOB_ID"], !job.isEmpty {
            parts.append("slurm=\(job).\(environment["SLURM_STEP_ID"] ?? "")")
        }
        if let ids = plan.subordinateIDs {
            parts.append("\(ids.uidStart)+\(ids.uidCount):\(ids.gidStart)+\(ids.gidCount)")
        }
        return String(Digest.sha256(of: Array(parts.joined(separator: "\n").utf8)).hex.prefix(32))
    }
}

extension ImageServer {
    /// What a running server says of itself (`husk server list`).
    public struct Status: Equatable, Sendable, Codable {
        public var key: String
        public var pid: Int
        /// Its FUSE server's pid (0 when unknown).
        public var fuse: Int
        public var containers: Int
        public var idle: Int
        /// Seconds since the epoch.
        public var started: Int
        public var image: String
    }

    /// Every server of this user on this node that answers; sockets of
    /// servers that died (kill -9) are left for the next start to remove.
    public static func list(environment: [String: String]) throws -> [Status] {
        let directory = self.directory(environment: environment)
        guard FilePath.isDirectory(directory) else { return [] }
        _ = try PrivateDirectory.prepare(directory, what: "image servers")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".sock") }.sorted().compactMap { name in
            let key = String(name.dropLast(5))
            guard let text = try? ask(directory + "/" + name, request: "S") else { return nil }
            return status(key: key, text: text)
        }
    }

    /// Asks the server `key` (a key of `list`) to stop taking new
    /// containers; it ends once its running ones have. Without any, returns
    /// once it and its FUSE server have ended (at most 5 s). False when
    /// none answers.
    public static func stop(key: String, environment: [String: String]) throws -> Bool {
        guard key.allSatisfy({ $0.isHexDigit }), !key.isEmpty else {
            throw HuskError(.usage, "\(key): not a server key (husk server list shows them)")
        }
        let socket = directory(environment: environment) + "/" + key + ".sock"
        let before = (try? ask(socket, request: "S")).flatMap { status(key: key, text: $0) }
        guard (try? ask(socket, request: "Q")) == "y" else { return false }
        if let before, before.containers == 0 {
            for _ in 0..<250 where [before.pid, before.fuse].contains(where: isRunning) { usleep(20_000) }
        }
        return true
    }

    /// Alive and not a zombie (an orphan's status waits for whatever reaps it).
    static func isRunning(_ pid: Int) -> Bool {
        guard pid > 0, let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        return !stat[close...].hasPrefix(") Z")
    }

    static func status(key: String, text: String) -> Status? {
        var fields: [String: String] = [:]
        var rest = Substring(text)
        // "image" comes last and runs to the end: a path may hold anything.
        while let line = rest.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first,
              let space = line.firstIndex(of: " ") {
            let name = String(line[..<space])
            if name == "image" {
                var image = rest[rest.index(after: space)...]
                if image.hasSuffix("\n") { image = image.dropLast() }
                fields[name] = String(image)
                break
            }
            fields[name] = String(line[line.index(after: space)...])
            rest = rest.dropFirst(line.count + 1)
        }
        guard let pid = fields["pid"].flatMap(Int.init), let fuse = fields["fuse"].flatMap(Int.init),
              let containers = fields["containers"].flatMap(Int.init),
              let idle = fields["idle"].flatMap(Int.init), let started = fields["started"].flatMap(Int.init),
              let image = fields["image"] else { return nil }
        return Status(key: key, pid: pid, fuse: fuse, containers: containers, idle: idle, started: started, image: image)
    }

    /// One request byte, then the answer to EOF (the protocol of server.c).
    static func ask(_ socketPath: String, request: Character) throws -> String {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw HuskError(.io, "socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(socketPath.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw HuskError(.usage, "\(socketPath): too long for a socket address")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard connected == 0 else { throw HuskError(.notFound, "\(socketPath): no server answers") }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var byte = UInt8(request.asciiValue ?? 0)
        guard write(fd, &byte, 1) == 1 else { throw HuskError(.io, "\(socketPath): the server went away") }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while answer.count < 1 << 16 {
            let n = read(fd, &buffer, buffer.count)
            if n <= 0 { break }
            answer += buffer[0..<n]
        }
        return String(decoding: answer, as: UTF8.self)
    }
}
