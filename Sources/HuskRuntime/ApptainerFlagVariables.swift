import HuskCore

/// The `APPTAINER_<KEY>` and `SINGULARITY_<KEY>` variables Apptainer reads
/// for its flags (the keys are in `ApptainerFlags`), read as Apptainer reads
/// them: Apptainer's name before Singularity's, an empty value as unset. The
/// command line wins over both (the CLI asks here only for what it was not
/// given). Binds (`APPTAINER_BIND`, `_BINDPATH`) are `ApptainerVariables`'.
public struct ApptainerFlagVariables {
    /// Apptainer's prefix first: its variables win.
    public static let prefixes = ["APPTAINER_", "SINGULARITY_"]

    public let host: [String: String]

    public init(host: [String: String]) {
        self.host = host
    }

    /// The first variable of the flag NAME that is set and not empty, and its value.
    public func value(of name: String) -> (variable: String, value: String)? {
        guard let flag = ApptainerFlags.flag(named: name) else { return nil }
        for variable in flag.variables {
            if let value = host[variable], !value.isEmpty { return (variable, value) }
        }
        return nil
    }

    /// A switch's variable: on for 1, t, true, y, yes, on (any case), off
    /// for 0, f, false, n, no, off or unset; anything else is an error that
    /// names the variable (a typo must not turn a flag silently off).
    public func isOn(_ name: String) throws -> Bool {
        guard let (variable, value) = value(of: name) else { return false }
        switch value.lowercased() {
        case "1", "t", "true", "y", "yes", "on": return true
        case "0", "f", "false", "n", "no", "off": return false
        default:
            throw HuskError(.usage, "\(variable)=\(value): use 1 or true to set --\(name), 0 or false (or unset it) not to")
        }
    }

    /// Comma-separated values (`APPTAINER_SCRATCH=/a,/b`), empty items dropped.
    public func list(of name: String) -> [String] {
        guard let (_, value) = value(of: name) else { return [] }
        return value.split(separator: ",").map(String.init).filter { !$0.isEmpty }
    }

    /// The variables set for flags Husk refuses: the first one's flag and
    /// name (a switch's variable set to a false value does not count).
    public func firstRefused() throws -> (flag: ApptainerFlags.Flag, variable: String)? {
        for flag in ApptainerFlags.flags(where: { if case .refused = $0 { true } else { false } }) {
            guard let (variable, _) = value(of: flag.name) else { continue }
            if flag.value == nil, !(try isOn(flag.name)) { continue }
            return (flag, variable)
        }
        return nil
    }
}
