import Foundation
import HuskCore

/// A long-running container started with `husk instance start`. Its state
/// lives in `$XDG_RUNTIME_DIR/husk/instances/NAME.json` (0700 directory),
/// with its output in NAME.out and NAME.err beside it.
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

    public init(environment: [String: String]) {
        if let runtime = environment["XDG_RUNTIME_DIR"], !runtime.isEmpty {
            directory = runtime + "/husk/instances"
        } else {
            directory = "/tmp/husk-\(getuid())/instances"
        }
    }

    public static func validate(name: String) throws {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
        guard !name.isEmpty, name.count <= 64, name.first != ".", name.first != "-", name.allSatisfy(allowed.contains) else {
            throw HuskError(.usage, "invalid instance name \"\(name)\": use letters, digits, '_', '.', '-' (at most 64)")
        }
    }

    func path(_ name: String, _ suffix: String) -> String { "\(directory)/\(name).\(suffix)" }
    public func outputPath(_ name: String) -> String { path(name, "out") }
    public func errorPath(_ name: String) -> String { path(name, "err") }

    public func prepare() throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        chmod(directory, 0o700)
    }

    public func save(_ state: InstanceState) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        let output = try AtomicOutputFile(finalPath: path(state.name, "json"))
        try encoder.encode(state).write(to: URL(fileURLWithPath: output.temporaryPath))
        try output.commit()
    }

    public func load(_ name: String) -> InstanceState? {
        guard let data = FileManager.default.contents(atPath: path(name, "json")) else { return nil }
        return try? JSONDecoder().decode(InstanceState.self, from: data)
    }

    /// Running instances; state left by instances that died is removed.
    public func all() -> [InstanceState] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
        return names.compactMap { name in
            guard let state = load(name) else { return nil }
            if Self.isAlive(state) { return state }
            remove(name)
            return nil
        }
    }

    public func remove(_ name: String) {
        for suffix in ["json", "out", "err"] { unlink(path(name, suffix)) }
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
