/// Everything `husk-starter` needs, computed by the library (which may
/// allocate, use threads, read the image) so that the starter only makes
/// system calls (DESIGN.md §1). Sent on fd 3 as NUL-terminated `KEY=VALUE`
/// strings; the format is documented where the starter parses it.
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
    public var pidNamespace = false
    public var netNamespace = false
    public var ipcNamespace = false
    public var utsNamespace = false
    public var hostname: String?
    public var resourceLimits: [ResourceLimit] = []
    /// With `fakeroot`: the capabilities kept inside (nil: all).
    public var capabilities: UInt64?
    /// The compiled seccomp filter as hex, or nil when unconfined.
    public var seccomp: String?
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

    /// The wire format `husk-starter` reads.
    public func encoded() -> [UInt8] {
        var records: [String] = ["name=\(name)"]
        if let join {
            records.append("join=\(join)")
        } else {
            switch root {
            case .squashfs(let path, let offset):
                records += ["image=\(path)", "offset=\(offset)"]
            case .directory(let path):
                records.append("rootfs=\(path)")
            }
        }
        records += [
            "uid=\(outsideUID)", "gid=\(outsideGID)", "ctr_uid=\(insideUID)", "ctr_gid=\(insideGID)",
            "fakeroot=\(fakeroot ? 1 : 0)", "writable_tmpfs=\(writableTmpfs ? 1 : 0)", "pid=\(pidNamespace ? 1 : 0)",
        ]
        records += ["net=\(netNamespace ? 1 : 0)", "ipc=\(ipcNamespace ? 1 : 0)", "uts=\(utsNamespace ? 1 : 0)"]
        if let hostname { records.append("hostname=\(hostname)") }
        records += resourceLimits.map { "rlimit=\($0.name):\($0.soft):\($0.hard)" }
        if fakeroot, let capabilities { records.append("caps=" + String(capabilities, radix: 16)) }
        if let seccomp { records.append("seccomp=\(seccomp)") }
        if fakeroot, let ids = subordinateIDs {
            records += ["newuidmap=\(ids.newuidmap)", "newgidmap=\(ids.newgidmap)",
                        "subuid=\(ids.uidStart):\(ids.uidCount)", "subgid=\(ids.gidStart):\(ids.gidCount)"]
        }
        records += files.map { "file=\($0.destination)\t\(String($0.mode, radix: 8))\t\($0.content)" }
        // Fresh tmpfs mounts first, so binds into them (-B /data:/tmp/in,
        // the nodes of --contain's /dev) land inside rather than under them.
        records += tmpfs.map { "tmpfs=\($0.destination)\t\(String($0.mode, radix: 8))" }
        records += binds.map { "bind=\($0.source)\t\($0.destination)\t\($0.flags)" }
        records += symlinks.map { "symlink=\($0.destination)\t\($0.target)" }
        records.append("cwd=\(workingDirectory)")
        records += directories.map { "mkdir=\($0)" }
        records += environment.map { "env=\($0)" }
        records += arguments.map { "arg=\($0)" }
        var bytes: [UInt8] = []
        for record in records {
            bytes += Array(record.utf8)
            bytes.append(0)
        }
        return bytes
    }
}
