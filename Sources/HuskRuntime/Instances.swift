import FoundationEssentials
import Glibc
import HuskCore

/// A long-running container started with `husk instance start`. Its state
/// lives in `$XDG_RUNTIME_DIR/husk/instances/NAME.json` (else under
/// `$TMPDIR/husk-$UID`; checked like every state directory), with its
/// output in NAME.out and NAME.err beside it.
public struct InstanceState: Codable, Equatable, Sendable {
    public var name: String
    /// The instance's husk-starter: its namespaces are the instance's.
    public var pid: Int32
    /// From /proc/PID/stat, so a recycled pid is never taken for the instance.
    public var startTime: UInt64
    public var image: String
    public var command: [String]
    public var created: String
    public var fakeroot: Bool

    public init(name: String, pid: Int32, startTime: UInt64, image: String, command: [String], created: String,
                fakeroot: Bool) {
        self.name = name
        self.pid = pid
        self.startTime = startTime
        self.image = image
        self.command = command
        self.created = created
        self.fakeroot = fakeroot
    }
}

public struct InstanceStore {
    public let directory: String

    /// The directory is created and checked here: nothing another user
    /// made or could change is read or written.
    public init(environment: [String: String]) throws {
        let runtime = HuskPaths(environment: environment).runtime
        try PrivateDirectory.prepare(runtime, what: "instance state")
        directory = try PrivateDirectory.prepare(runtime + "/instances", what: "instance state")
    }

    public static func validate(name: String) throws {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
        guard !name.isEmpty, name.count <= 64, name.first != ".", name.first != "-", name.allSatisfy(allowed.contains) else {
            throw HuskError(.usage, "invalid instance name \"\(name)\": use letters, digits, '_', '.', '-' (at most 64)")
        }
    }

    /// Every path is built from a checked name: `../x` never leaves the directory.
    func path(_ name: String, _ suffix: String) throws -> String {
        try Self.validate(name: name)
        return "\(directory)/\(name).\(suffix)"
    }
    public func outputPath(_ name: String) throws -> String { try path(name, "out") }
    public func errorPath(_ name: String) throws -> String { try path(name, "err") }

    public func save(_ state: InstanceState) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        let output = try AtomicOutputFile(finalPath: try path(state.name, "json"))
        try encoder.encode(state).write(to: URL(fileURLWithPath: output.temporaryPath))
        try output.commit()
    }

    /// The state of instance `name`, nil if there is none (or it is not
    /// a regular file: a symlink there is not followed).
    public func load(_ name: String) throws -> InstanceState? {
        let file = try path(name, "json")
        var st = stat()
        guard lstat(file, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG,
              let data = FileManager.default.contents(atPath: file) else { return nil }
        return try? JSONDecoder().decode(InstanceState.self, from: data)
    }

    /// Running instances; state left by instances that died is removed.
    public func all() -> [InstanceState] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
        return names.compactMap { name in
            guard let state = try? load(name) else { return nil }
            if Self.isAlive(state) { return state }
            try? remove(name)
            return nil
        }
    }

    public func remove(_ name: String) throws {
        for suffix in ["json", "out", "err"] { unlink(try path(name, suffix)) }
    }

    /// The same process (pid and start time) and not a zombie: a killed
    /// starter stays one until the host's init reaps it.
    public static func isAlive(_ state: InstanceState) -> Bool {
        guard let fields = statFields(of: state.pid), fields.count > 19 else { return false }
        return fields[0] != "Z" && UInt64(fields[19]) == state.startTime
    }

    /// Whether `pid` exists and is not a zombie.
    public static func isRunning(_ pid: Int32) -> Bool {
        guard let fields = statFields(of: pid) else { return false }
        return fields.first != "Z"
    }

    /// Field 22 of /proc/PID/stat (clock ticks since boot), nil if no such process.
    public static func startTime(of pid: Int32) -> UInt64? {
        guard let fields = statFields(of: pid), fields.count > 19 else { return nil }
        return UInt64(fields[19])
    }

    /// /proc/PID/stat from field 3 (the state) on: the command name before
    /// it may contain spaces and parentheses.
    static func statFields(of pid: Int32) -> [Substring]? {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/stat"),
              let text = String(data: data, encoding: .utf8), let paren = text.lastIndex(of: ")") else { return nil }
        return text[text.index(after: paren)...].split(separator: " ")
    }

    /// Pids whose parent is `pid` (this kernel has no /proc/PID/task/TID/children).
    public static func children(of pid: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { Int32($0) }.filter { candidate in
            guard let fields = statFields(of: candidate), fields.count > 1 else { return false }
            return Int32(fields[1]) == pid
        }
    }
}
