import HuskCore

/// `-B/--bind SRC[:DST[:ro|rw]]`, repeatable and comma-separated like
/// Singularity's (`-B /data,/scratch:/work:ro`).
public enum BindOption {
    public static func parse(_ values: [String], currentDirectory: String) throws -> [LaunchPlan.Bind] {
        if values.contains(where: { $0.allSatisfy { $0 == "," } }) {
            throw HuskError(.usage, "empty --bind: use SRC[:DST[:ro|rw]]")
        }
        return try values.flatMap { $0.split(separator: ",", omittingEmptySubsequences: true) }.map { item in
            let parts = item.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard (1...3).contains(parts.count), !parts[0].isEmpty else {
                throw HuskError(.usage, "invalid bind \"\(item)\": use SRC[:DST[:ro|rw]]")
            }
            var readOnly = false
            var destination = parts[0]
            if parts.count >= 2 {
                if parts.count == 2 && (parts[1] == "ro" || parts[1] == "rw") {
                    readOnly = parts[1] == "ro"
                } else {
                    destination = parts[1]
                }
            }
            if parts.count == 3 {
                if parts[2].hasPrefix("image-src=") || parts[2].hasPrefix("id=") {
                    throw HuskError(.usage, "bind \"\(item)\": \(parts[2].prefix { $0 != "=" })= is not supported: Husk binds directories and files, not what is inside an image file; extract it, or convert it with husk convert and bind the result")
                }
                guard parts[2] == "ro" || parts[2] == "rw" else {
                    throw HuskError(.usage, "invalid bind option \"\(parts[2])\" in \"\(item)\": use ro or rw")
                }
                readOnly = parts[2] == "ro"
            }
            guard destination.hasPrefix("/") else {
                throw HuskError(.usage, "invalid bind \"\(item)\": the destination must be an absolute path inside the container")
            }
            let source = parts[0].hasPrefix("/") ? parts[0] : currentDirectory + "/" + parts[0]
            return LaunchPlan.Bind(source: normalize(source), destination: normalize(destination),
                                   readOnly: readOnly, user: true)
        }
    }

    /// Lexical clean-up: no `.`/`..`/empty components; `..` never climbs above `/`.
    public static func normalize(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") {
            if part == "." { continue }
            if part == ".." { _ = parts.popLast(); continue }
            parts.append(part)
        }
        return "/" + parts.joined(separator: "/")
    }
}
