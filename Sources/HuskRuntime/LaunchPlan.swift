import HuskCore

/// Everything `husk-starter` needs, computed by the library (which may
/// allocate, use threads, read the image) so that the starter only makes
/// system calls (DESIGN.md §1). Sent on a descriptor as length-prefixed
/// records; the format is documented where the starter parses it.
public struct LaunchPlan: Equatable, Sendable {
    public enum Root: Equatable, Sendable {
        /// A squashfs file served through FUSE by the starter.
        case squashfs(path: String, offset: UInt64)
        /// A plain directory (a sandbox or an extracted image).
        case directory(String)
    }

    public struct Bind: Equatable, Sendable {
        public var source: String
        public var destination: String
        public var readOnly: Bool
        public var recursive = false
        /// Skipped when the source does not exist (e.g. /etc/hosts).
        public var optional = false
        /// Device nodes stay usable (only for /dev).
        public var devices = false
        /// Asked for by the user: refused over /proc, /dev and /sys.
        public var user = false

        public init(source: String, destination: String, readOnly: Bool, recursive: Bool = false,
                    optional: Bool = false, devices: Bool = false, user: Bool = false) {
            self.source = source
            self.destination = destination
            self.readOnly = readOnly
            self.recursive = recursive
            self.optional = optional
            self.devices = devices
            self.user = user
        }

        var flags: String {
            var flags = [readOnly ? "ro" : "rw"]
            if recursive { flags.append("rec") }
            if optional { flags.append("opt") }
            if devices { flags.append("dev") }
            if user { flags.append("user") }
            return flags.joined(separator: ",")
        }
    }

    public struct File: Equatable, Sendable {
        public var destination: String
        public var mode: UInt16
        public var content: String
    }

    public var name: String
    public var root: Root
    /// `husk exec instance://NAME`: enter the namespaces of this instance's
    /// starter instead of building a container (no image, mounts or files).
    public var join: Int32?
    public var outsideUID: UInt32
    public var outsideGID: UInt32
    public var insideUID: UInt32
    public var insideGID: UInt32
    public var fakeroot = false
    /// With `fakeroot`: map ids 1… to these ranges through newuidmap/newgidmap.
    public var subordinateIDs: SubordinateIDs?
    public var writableTmpfs = false
    /// `--overlay DIR`: the root is an overlay whose changes go to this
    /// upper directory (on the host; `work` beside it).
    public var overlay: Overlay?

    public struct Overlay: Equatable, Sendable {
        public var upper: String
        public var work: String
    }
    /// Read-only directories layered over the image, topmost first.
    public var overlayLower: [String] = []
    public var pidNamespace = false
    /// With `pidNamespace`: the command is PID 1 (no init between).
    public var noInit = false
    /// The command's umask; nil: the caller's.
    public var umask: UInt16?
    public var netNamespace = false
    public var ipcNamespace = false
    public var utsNamespace = false
    public var hostname: String?
    public var resourceLimits: [ResourceLimit] = []
    /// With `fakeroot`: the capabilities kept inside (nil: all).
    public var capabilities: UInt64?
    /// The compiled seccomp filter (classic BPF), or nil when unconfined.
    public var seccomp: [UInt8]?
    /// The FUSE server's own filter (an allow-list), or nil.
    public var serverSeccomp: [UInt8]?
    public var files: [File] = []
    public var binds: [Bind] = []
    /// Fresh tmpfs mounts, with the mode of their root.
    public var tmpfs: [Tmpfs] = []

    public struct Tmpfs: Equatable, Sendable {
        public var destination: String
        public var mode: UInt16 = 0o1777
    }
    /// Made after the mounts (e.g. /dev/fd in the minimal /dev of --contain).
    public var symlinks: [Symlink] = []

    public struct Symlink: Equatable, Sendable {
        public var destination: String
        public var target: String
    }
    public var workingDirectory: String = "/"
    /// Directories to create when the image lacks them (its WorkingDir).
    public var directories: [String] = []
    /// `NAME=VALUE`, exactly the container's environment.
    public var environment: [String] = []
    public var arguments: [String] = []

    /// Descriptors (3 and up) the caller passed to husk: they stay open for
    /// the command (Slurm's `PMI_FD`); every other one is closed before exec.
    public var keptDescriptors: [Int32] = []
    /// Husk's own state on the host, hidden wherever a bind would show it.
    public var protectedPaths: [ProtectedPath] = []
    /// Seconds the container may outlive the process that started husk
    /// before it is ended (Slurm jobs: `SlurmJob.orphanGrace`); nil: never.
    public var orphanGrace: Int?
    /// Path prefix of this user's image server for the image (`ImageServer`):
    /// join it, or start it, instead of mounting the image; nil: mount it.
    public var server: String?
    /// Seconds a server this run starts outlives its last container.
    public var idle = 0
    /// With `server`: the starter only starts the server when none runs,
    /// and runs no container (`ImageServer.prestart`).
    public var prestart = false

    public struct ProtectedPath: Equatable, Sendable {
        public var path: String
        /// For messages: "image cache", "credentials", ...
        public var what: String
    }

    /// The wire format `husk-starter` reads (documented in its plan.c):
    /// records of length-prefixed fields, so that no value, whoever wrote
    /// it, can end its field or record or add one. A value the starter uses
    /// as a C string may not hold NUL; that is refused here, by name.
    public func encoded() throws -> [UInt8] {
        var out = PlanWriter()
        try out.add("version", "1")
        try out.add("name", name)
        if let join {
            try out.add("join", "\(join)")
        } else {
            switch root {
            case .squashfs(let path, let offset):
                try out.add("image", path)
                try out.add("offset", "\(offset)")
            case .directory(let path):
                try out.add("rootfs", path)
            }
        }
        for (key, value) in [("uid", outsideUID), ("gid", outsideGID), ("ctr_uid", insideUID), ("ctr_gid", insideGID)] {
            try out.add(key, "\(value)")
        }
        for (key, value) in [("fakeroot", fakeroot), ("writable_tmpfs", writableTmpfs), ("pid", pidNamespace),
                             ("net", netNamespace), ("ipc", ipcNamespace), ("uts", utsNamespace)] {
            try out.add(key, value ? "1" : "0")
        }
        if let overlay { try out.add("overlay", overlay.upper, overlay.work) }
        for lower in overlayLower { try out.add("overlay_lower", lower) }
        if noInit { try out.add("no_init", "1") }
        if let umask { try out.add("umask", String(umask, radix: 8)) }
        if let hostname { try out.add("hostname", hostname) }
        for limit in resourceLimits { try out.add("rlimit", limit.name, "\(limit.soft)", "\(limit.hard)") }
        if fakeroot, let capabilities { try out.add("caps", String(capabilities, radix: 16)) }
        if let seccomp { out.add(binary: "seccomp", seccomp) }
        if let serverSeccomp { out.add(binary: "server_seccomp", serverSeccomp) }
        if fakeroot, let ids = subordinateIDs {
            try out.add("newuidmap", ids.newuidmap)
            try out.add("newgidmap", ids.newgidmap)
            try out.add("subuid", "\(ids.uidStart)", "\(ids.uidCount)")
            try out.add("subgid", "\(ids.gidStart)", "\(ids.gidCount)")
        }
        for file in files {
            try out.add(file: file.destination, mode: String(file.mode, radix: 8), content: Array(file.content.utf8))
        }
        // Fresh tmpfs mounts first, so binds into them (-B /data:/tmp/in,
        // the nodes of --contain's /dev) land inside rather than under them.
        for tmpfs in tmpfs { try out.add("tmpfs", tmpfs.destination, String(tmpfs.mode, radix: 8)) }
        for bind in binds { try out.add("bind", bind.source, bind.destination, bind.flags) }
        for link in symlinks { try out.add("symlink", link.destination, link.target) }
        try out.add("cwd", workingDirectory)
        for directory in directories { try out.add("mkdir", directory) }
        for variable in environment { try out.add("env", variable) }
        for argument in arguments { try out.add("arg", argument) }
        for fd in keptDescriptors { try out.add("keep_fd", "\(fd)") }
        for protected in protectedPaths { try out.add("protect", protected.path, protected.what) }
        if let orphanGrace, orphanGrace > 0 { try out.add("orphan_grace", "\(orphanGrace)") }
        if let server {
            try out.add("server", server)
            try out.add("idle", "\(idle)")
            if prestart { try out.add("prestart", "1") }
        }
        return out.bytes
    }
}

/// Writes launch-plan records: `KEY(:LENGTH:BYTES)*\n`.
struct PlanWriter {
    private(set) var bytes: [UInt8] = []

    /// A record of text fields, none of which may hold NUL.
    mutating func add(_ key: String, _ fields: String...) throws {
        for field in fields where field.utf8.contains(0) {
            throw HuskError(.usage, "\(key) value \"\(Self.printable(field))\" holds a NUL byte, which no path, variable or argument can carry")
        }
        append(key, fields.map { Array($0.utf8) })
    }

    /// The compiled seccomp program: bytes, not text.
    mutating func add(binary key: String, _ value: [UInt8]) {
        append(key, [value])
    }

    /// A file's content may be anything; its destination and mode are text.
    mutating func add(file destination: String, mode: String, content: [UInt8]) throws {
        if destination.utf8.contains(0) {
            throw HuskError(.usage, "file \"\(Self.printable(destination))\" holds a NUL byte")
        }
        append("file", [Array(destination.utf8), Array(mode.utf8), content])
    }

    private mutating func append(_ key: String, _ fields: [[UInt8]]) {
        bytes += Array(key.utf8)
        for field in fields {
            bytes.append(UInt8(ascii: ":"))
            bytes += Array(String(field.count).utf8)
            bytes.append(UInt8(ascii: ":"))
            bytes += field
        }
        bytes.append(UInt8(ascii: "\n"))
    }

    /// For messages: NUL and other control bytes shown as `\0`, `\u{1}`.
    static func printable(_ text: String) -> String {
        let shown = text.unicodeScalars.map { $0.value < 0x20 ? ($0.value == 0 ? "\\0" : "\\u{\(String($0.value, radix: 16))}") : String($0) }.joined()
        return shown.count > 60 ? String(shown.prefix(60)) + "…" : shown
    }
}
