/// `ApptainerFlags` as text: the README's compatibility table (Markdown,
/// compared with the README by a unit test and rewritten by
/// Scripts/generate-compat) and the summary in husk-run(1).
extension ApptainerFlags {
    /// The README section's body, one row per flag.
    public static func markdownTable() -> String {
        var lines = [
            "| Apptainer flag | variables | Husk |",
            "|---|---|---|",
        ]
        for flag in all {
            let variables = flag.keys.isEmpty ? "" : flag.keys.map { "`APPTAINER_\($0)`" }.joined(separator: ", ")
            lines.append("| `\(flag.usage)` | \(variables) | \(describe(flag.status)) |")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func describe(_ status: Status) -> String {
        switch status {
        case .same(let note): return note.isEmpty ? "same" : "same: \(escape(note))"
        case .alias(let flag): return "alias of \(escape(flag))"
        case .noOp(let reason): return "no-op: \(escape(reason))"
        case .refused(let reason): return "refused: \(escape(reason))"
        }
    }

    /// `|` would end a table cell.
    static func escape(_ text: String) -> String {
        text.split(separator: "|", omittingEmptySubsequences: false).joined(separator: "\\|")
    }

    /// For the run pages' help: the flags Husk takes only for Apptainer's
    /// sake and those it refuses, one sentence each group (a flag that
    /// takes a value with its placeholder: `--tmpdir DIR`), which
    /// Integration/test-apptainer-flags.sh reads back to try each one.
    public static func helpSummary() -> String {
        func names(_ predicate: (Status) -> Bool) -> String {
            flags(where: predicate).map { flag in
                (flag.short.map { "-\($0)/--\(flag.name)" } ?? "--\(flag.name)") + (flag.value.map { " \($0)" } ?? "")
            }.joined(separator: ", ")
        }
        let ignored = names { if case .noOp = $0 { true } else { false } }
        let refused = names { if case .refused = $0 { true } else { false } }
        return "Accepted and ignored (Husk always or never does it): \(ignored). "
            + "Refused in one line saying what to use instead: \(refused)."
    }
}
