import HuskCore

/// `--mount type=bind,source=SRC,destination=DST[,ro]`: Docker's long form
/// of a bind, as Apptainer takes it. A specification is one CSV record, so a
/// field in double quotes may hold commas ("src=/a,b"), and keys have the
/// spellings Docker and Apptainer accept. Binds are the only type.
public enum MountOption {
    public static func parse(_ spec: String, currentDirectory: String) throws -> LaunchPlan.Bind {
        var source: String?, destination: String?, readOnly = false
        for field in try csvFields(spec) {
            let parts = field.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            let key = parts[0], value = parts.count == 2 ? parts[1] : nil
            switch key {
            case "type":
                guard value == "bind" else {
                    throw HuskError(.usage, "--mount \(spec): type=\(value ?? "") is not supported: Husk, like Apptainer, mounts only type=bind")
                }
            case "source", "src":
                source = value
            case "destination", "dst", "target", "dest":
                destination = value
            case "ro", "readonly":
                readOnly = try boolean(value, key: key, spec: spec) ?? true
            case "rw":
                readOnly = !(try boolean(value, key: key, spec: spec) ?? true)
            case "image-src", "id":
                throw HuskError(.usage, "--mount \(spec): \(key)= is not supported: Husk binds directories and files, not what is inside an image file; extract it, or convert it with husk convert and bind the result")
            case "bind-propagation":
                continue  // every bind is private to the container's mount namespace anyway
            default:
                throw HuskError(.usage, "--mount \(spec): unknown key \"\(key)\": use type=bind,source=SRC,destination=DST[,ro]")
            }
        }
        guard let source, !source.isEmpty else {
            throw HuskError(.usage, "--mount \(spec): no source: use type=bind,source=SRC,destination=DST")
        }
        guard let destination, destination.hasPrefix("/") else {
            throw HuskError(.usage, "--mount \(spec): the destination must be an absolute path inside the container (destination=/DST)")
        }
        let absolute = source.hasPrefix("/") ? source : currentDirectory + "/" + source
        return LaunchPlan.Bind(source: BindOption.normalize(absolute), destination: BindOption.normalize(destination),
                               readOnly: readOnly, user: true)
    }

    /// `APPTAINER_MOUNT`: one specification per line.
    public static func specifications(fromVariable value: String) -> [String] {
        value.split(separator: "\n").map(String.init).filter { !$0.allSatisfy { $0 == " " || $0 == "\t" } }
    }

    /// `ro` alone, or `ro=true|false|1|0`.
    static func boolean(_ value: String?, key: String, spec: String) throws -> Bool? {
        switch value {
        case nil: return nil
        case "true", "1": return true
        case "false", "0": return false
        default: throw HuskError(.usage, "--mount \(spec): \(key)=\(value!): use \(key), \(key)=true or \(key)=false")
        }
    }

    /// The fields of one CSV record: commas separate them, a field that
    /// starts with `"` runs to the matching quote (`""` is a quote inside),
    /// and a quote in the middle of a field (`"src=/a,b"` written as
    /// src="/a,b") quotes from there too, as Apptainer's examples do.
    static func csvFields(_ text: String) throws -> [String] {
        var fields: [String] = []
        var field = ""
        var quoted = false
        var chars = Array(text)[...]
        while let c = chars.popFirst() {
            if quoted {
                if c == "\"" {
                    if chars.first == "\"" { field.append("\""); chars = chars.dropFirst() } else { quoted = false }
                } else {
                    field.append(c)
                }
            } else if c == "\"" {
                quoted = true
            } else if c == "," {
                fields.append(field)
                field = ""
            } else {
                field.append(c)
            }
        }
        guard !quoted else { throw HuskError(.usage, "--mount \(text): a quote is not closed") }
        fields.append(field)
        return fields.filter { !$0.isEmpty }
    }
}
