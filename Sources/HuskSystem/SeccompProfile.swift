import CLibSeccomp
import FoundationEssentials
import Glibc
import HuskCore

/// A seccomp profile in the JSON format of Docker, Podman and the OCI
/// runtime spec (`--security seccomp=FILE.json`): a default action and
/// rules by system call name, with argument comparisons. Rules that
/// `includes` capabilities the container does not hold, or architectures
/// other than this machine's, are left out, as Docker does.
public struct SeccompProfile: Decodable, Sendable {
    public var defaultAction: String
    public var defaultErrnoRet: Int32?
    public var syscalls: [SyscallRule]?

    public struct SyscallRule: Decodable, Sendable {
        public var names: [String]?
        public var name: String?  // older profiles
        public var action: String
        public var errnoRet: Int32?
        public var args: [Argument]?
        public var includes: Filter?
        public var excludes: Filter?
    }

    public struct Argument: Decodable, Sendable {
        public var index: UInt32
        public var value: UInt64
        public var valueTwo: UInt64?
        public var op: String
    }

    public struct Filter: Decodable, Sendable {
        public var caps: [String]?
        public var arches: [String]?
    }

    public static func load(path: String) throws -> SeccompProfile {
        let bytes = try FileByteSource(path: path).readAll(limit: 8 << 20, what: path)
        do {
            return try JSONDecoder().decode(SeccompProfile.self, from: Data(bytes))
        } catch {
            throw HuskError(.usage, "seccomp profile \(path) is not a valid Docker/OCI seccomp profile (\(error))")
        }
    }

    /// This machine's name in profiles' `arches`.
    static var nativeArch: String {
        #if arch(x86_64)
        return "amd64"
        #elseif arch(arm64)
        return "arm64"
        #else
        return "unknown"
        #endif
    }

    static func action(_ name: String, errno: Int32?, path: String) throws -> SeccompFilter.Action {
        switch name {
        case "SCMP_ACT_ALLOW": return .allow
        case "SCMP_ACT_ERRNO": return .errno(errno ?? EPERM)
        case "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD": return .killThread
        case "SCMP_ACT_KILL_PROCESS": return .killProcess
        case "SCMP_ACT_TRAP": return .trap
        case "SCMP_ACT_TRACE": return .trace(UInt32(errno ?? 0))
        case "SCMP_ACT_LOG": return .log
        default: throw HuskError(.usage, "seccomp profile \(path): unknown action \"\(name)\"")
        }
    }

    static func compare(_ name: String, path: String) throws -> scmp_compare {
        switch name {
        case "SCMP_CMP_NE": return SCMP_CMP_NE
        case "SCMP_CMP_LT": return SCMP_CMP_LT
        case "SCMP_CMP_LE": return SCMP_CMP_LE
        case "SCMP_CMP_EQ": return SCMP_CMP_EQ
        case "SCMP_CMP_GE": return SCMP_CMP_GE
        case "SCMP_CMP_GT": return SCMP_CMP_GT
        case "SCMP_CMP_MASKED_EQ": return SCMP_CMP_MASKED_EQ
        default: throw HuskError(.usage, "seccomp profile \(path): unknown comparison \"\(name)\"")
        }
    }

    /// The filter for a container holding `capabilities` (names like
    /// CAP_SYS_ADMIN; all of them with --fakeroot, none otherwise).
    public func filter(capabilities: Set<String>, path: String) throws -> SeccompFilter {
        let defaultAction = try Self.action(self.defaultAction, errno: defaultErrnoRet, path: path)
        var rules: [SeccompFilter.Rule] = []
        for rule in syscalls ?? [] {
            if let caps = rule.includes?.caps, !caps.allSatisfy(capabilities.contains) { continue }
            if let arches = rule.includes?.arches, !arches.contains(Self.nativeArch) { continue }
            if let caps = rule.excludes?.caps, caps.contains(where: capabilities.contains) { continue }
            if let arches = rule.excludes?.arches, arches.contains(Self.nativeArch) { continue }
            let names = (rule.names ?? []) + (rule.name.map { [$0] } ?? [])
            let checks = try (rule.args ?? []).map {
                SeccompFilter.ArgumentCheck(index: $0.index, op: try Self.compare($0.op, path: path),
                                            value: $0.value, valueTwo: $0.valueTwo ?? 0)
            }
            rules.append(.init(names: names, action: try Self.action(rule.action, errno: rule.errnoRet, path: path),
                               arguments: checks))
        }
        return try SeccompFilter(defaultAction: defaultAction, rules: rules)
    }
}
