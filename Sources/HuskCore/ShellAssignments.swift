/// The variable assignments of a shell script, read without running it: how
/// Husk honours the environment scripts of a Singularity/Apptainer image
/// (`/.singularity.d/env/*.sh`).
///
/// Why read rather than run them: Apptainer sources them in the container
/// before every command, so whatever they set beats the user's own
/// variables and `apptainer exec` needs the image's shell. Husk's
/// environment is reproducible and layered (DESIGN.md §3): read here, the
/// scripts' result is the image's layer (2), below the scheduler's
/// variables and `--env`, `husk env` prints exactly what a container gets,
/// and nothing of the image runs before the command.
///
/// Understood: `NAME=value`, `export NAME[=value]…`, `unset NAME…`, `:`,
/// comments, quoting ('…', "…", backslashes, line continuations) and the
/// expansions `$NAME`, `${NAME}`, `${NAME-word}`, `${NAME:-word}`,
/// `${NAME+word}`, `${NAME:+word}`, evaluated against the variables so far.
/// Any other statement (`source`, `conda activate`, a command, a
/// redirection, command substitution) is skipped and reported; statements
/// inside `if`/`for`/`while`/`case` blocks are skipped with their block
/// (applying both branches of an `if` would be wrong), and after a
/// construct that cannot be followed reliably (a subshell, a function
/// definition, a `case` pattern) the rest of the script is skipped.
public struct ShellAssignments: Sendable {
    /// A statement Husk did not apply: its first line and its text (cut short).
    public struct Skipped: Sendable, Equatable {
        public var line: Int
        public var text: String
    }

    indirect enum Part: Sendable, Equatable {
        case literal(String)
        case variable(String)
        /// `${NAME-word}` (`use`: "-") or `${NAME+word}` ("+"), with `:` when `colon`.
        case alternative(name: String, colon: Bool, use: Character, word: [Part])
    }

    enum Statement: Sendable, Equatable {
        case assign(name: String, value: [Part], export: Bool)
        case export(String)
        case unset(String)
    }

    var statements: [Statement] = []
    public private(set) var skipped: [Skipped] = []

    public init(parsing text: String) {
        var parser = Parser(Array(text.unicodeScalars))
        var depth = 0
        while let statement = parser.next() {
            let first = statement.words.first
            let keyword = first.flatMap { $0.isPlain ? $0.raw : nil }
            if statement.untrackable {
                // A subshell, function or case pattern: where it ends is not
                // known without a real parser, so nothing after it is applied.
                skipped.append(Skipped(line: statement.line, text: parser.restOfText(from: statement.start)))
                return
            }
            if let keyword, Self.openers.contains(keyword) { depth += 1 }
            if depth > 0 || statement.unsupported {
                skipped.append(Skipped(line: statement.line, text: statement.text))
                if let keyword, Self.closers.contains(keyword) { depth -= 1 }
                if depth < 0 { return }
                continue
            }
            if let keyword, Self.closers.contains(keyword) {  // a closer without an opener
                skipped.append(Skipped(line: statement.line, text: parser.restOfText(from: statement.start)))
                return
            }
            guard let parsed = Self.classify(statement.words) else {
                skipped.append(Skipped(line: statement.line, text: statement.text))
                continue
            }
            statements += parsed
        }
    }

    static let openers: Set<String> = ["if", "for", "while", "until", "case", "{", "select"]
    static let closers: Set<String> = ["fi", "done", "esac", "}"]

    /// The statements a simple command stands for, or nil when it is not an
    /// assignment, export, unset or no-op.
    static func classify(_ words: [Word]) -> [Statement]? {
        if words.allSatisfy({ $0.assignment != nil }) {
            return words.map { .assign(name: $0.assignment!.name, value: $0.assignment!.value, export: false) }
        }
        guard let command = words.first, command.isPlain else { return nil }
        let arguments = words.dropFirst()
        switch command.raw {
        case ":", "true":
            return []
        case "export":
            var result: [Statement] = []
            for word in arguments {
                if let assignment = word.assignment {
                    result.append(.assign(name: assignment.name, value: assignment.value, export: true))
                } else if word.isPlain, isName(word.raw) {
                    result.append(.export(word.raw))
                } else {
                    return nil  // export -p, -n, or a name that is not one
                }
            }
            return result
        case "unset":
            var result: [Statement] = []
            for word in arguments {
                if word.isPlain && word.raw == "-v" { continue }
                guard word.isPlain, isName(word.raw) else { return nil }  // unset -f: functions
                result.append(.unset(word.raw))
            }
            return result
        default:
            return nil
        }
    }

    static func isName(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, first == "_" || isLetter(first) else { return false }
        return text.unicodeScalars.allSatisfy { $0 == "_" || isLetter($0) || ("0"..."9").contains($0) }
    }

    static func isLetter(_ c: Unicode.Scalar) -> Bool { ("a"..."z").contains(c) || ("A"..."Z").contains(c) }

    // MARK: evaluation

    /// Variables as a shell holds them: values, and which are exported.
    public struct State: Sendable {
        public var values: [String: String]
        public var exported: Set<String>
        /// Variables read while unset (`$NAME`, not `${NAME:-default}`), in
        /// the order first read.
        public var unsetReads: [String] = []

        /// Starts from an environment: every variable in it is exported.
        public init(environment: [String: String]) {
            values = environment
            exported = Set(environment.keys)
        }

        /// The exported variables: the environment a command would get.
        public var environment: [String: String] { values.filter { exported.contains($0.key) } }
    }

    /// Applies this script's statements, as sourcing it would.
    public func apply(to state: inout State) {
        for statement in statements {
            switch statement {
            case .assign(let name, let value, let export):
                state.values[name] = Self.evaluate(value, &state)
                if export { state.exported.insert(name) }
            case .export(let name):
                state.exported.insert(name)
            case .unset(let name):
                state.values[name] = nil
                state.exported.remove(name)
            }
        }
    }

    static func evaluate(_ parts: [Part], _ state: inout State) -> String {
        var result = ""
        for part in parts {
            switch part {
            case .literal(let text):
                result += text
            case .variable(let name):
                result += read(name, &state) ?? ""
            case .alternative(let name, let colon, let use, let word):
                let value = state.values[name]  // a default is given: reading it unset is no surprise
                let present = colon ? !(value ?? "").isEmpty : value != nil
                if use == "-" {
                    result += present ? value! : evaluate(word, &state)
                } else {
                    result += present ? evaluate(word, &state) : ""
                }
            }
        }
        return result
    }

    private static func read(_ name: String, _ state: inout State) -> String? {
        let value = state.values[name]
        if value == nil, !state.unsetReads.contains(name) { state.unsetReads.append(name) }
        return value
    }

    /// "3, 5-9": the lines of `skipped`, for a warning.
    public static func lineList(_ skipped: [Skipped]) -> String {
        var ranges: [(Int, Int)] = []
        for line in skipped.map(\.line) {
            if let last = ranges.last, line <= last.1 + 1 {
                ranges[ranges.count - 1].1 = max(last.1, line)
            } else {
                ranges.append((line, line))
            }
        }
        return ranges.map { $0.0 == $0.1 ? "\($0.0)" : "\($0.0)-\($0.1)" }.joined(separator: ", ")
    }
}

// MARK: - scanning

extension ShellAssignments {
    /// One word of a simple command: its parts after quote removal, and the
    /// text as written (for keywords and `NAME=`).
    struct Word {
        var parts: [Part] = []
        var raw = ""
        /// No quotes or expansions: the word is its text.
        var isPlain = true
        /// `NAME=value` with NAME unquoted: name and the value's parts.
        var assignment: (name: String, value: [Part])?
    }

    struct ParsedStatement {
        var words: [Word] = []
        var line: Int
        var start: Int
        var text = ""
        /// Something Husk does not apply (a pipe, `&&`, a redirection, command substitution…).
        var unsupported = false
        /// A parenthesis outside quotes: where the construct ends cannot be known.
        var untrackable = false
    }

    struct Parser {
        let text: [Unicode.Scalar]
        var position = 0
        var line = 1

        init(_ text: [Unicode.Scalar]) { self.text = text }

        var current: Unicode.Scalar? { position < text.count ? text[position] : nil }
        func peek(_ offset: Int = 1) -> Unicode.Scalar? {
            position + offset < text.count ? text[position + offset] : nil
        }

        mutating func advance() {
            if text[position] == "\n" { line += 1 }
            position += 1
        }

        func restOfText(from start: Int) -> String {
            Self.shorten(String(String.UnicodeScalarView(text[start...])))
        }

        static func shorten(_ text: String) -> String {
            let line = String(text.split(separator: "\n", omittingEmptySubsequences: true).first ?? "")
                .trimming(" \t")
            return line.count > 60 ? String(line.prefix(60)) + "…" : line
        }

        /// The next statement, or nil at the end. Blank statements are skipped.
        mutating func next() -> ParsedStatement? {
            while true {
                // Skip blanks, empty statements and comments between statements.
                while let c = current, c == " " || c == "\t" || c == "\n" || c == ";" || c == "\r" { advance() }
                if current == "\\" && peek() == "\n" { advance(); advance(); continue }
                if current == "#" {
                    while let c = current, c != "\n" { advance() }
                    continue
                }
                guard current != nil else { return nil }
                var statement = ParsedStatement(line: line, start: position)
                readStatement(into: &statement)
                statement.text = Self.shorten(String(String.UnicodeScalarView(text[statement.start..<position])))
                if statement.words.isEmpty && !statement.unsupported && !statement.untrackable { continue }
                return statement
            }
        }

        /// Words up to the end of the statement (newline or `;` outside quotes).
        mutating func readStatement(into statement: inout ParsedStatement) {
            while let c = current {
                switch c {
                case "\n", ";":
                    if c == ";" && peek() == ";" { statement.untrackable = true }  // ;; of a case
                    advance()
                    return
                case " ", "\t", "\r":
                    advance()
                case "\\" where peek() == "\n":
                    advance(); advance()
                case "#":  // at the start of a word: a comment
                    while let c = current, c != "\n" { advance() }
                case "&", "|", "<", ">":
                    // A pipe, list, background job or redirection: not an assignment.
                    statement.unsupported = true
                    advance()
                case "(", ")":
                    statement.untrackable = true
                    advance()
                default:
                    statement.words.append(readWord(&statement))
                }
            }
        }

        mutating func readWord(_ statement: inout ParsedStatement) -> Word {
            var word = Word()
            var literal = ""
            var parts: [Part] = []
            // Where the value of a NAME= prefix starts in `parts`.
            var assignmentName: String?
            var valueStart = 0
            func flush() {
                if !literal.isEmpty { parts.append(.literal(literal)); literal = "" }
            }
            let atStart = position
            while let c = current {
                if c == " " || c == "\t" || c == "\n" || c == ";" || c == "\r" || c == "&" || c == "|" || c == "<"
                    || c == ">" || c == "(" || c == ")" {
                    break
                }
                switch c {
                case "'":
                    word.isPlain = false
                    advance()
                    while let q = current, q != "'" { literal.unicodeScalars.append(q); advance() }
                    if current == nil { statement.unsupported = true } else { advance() }
                case "\"":
                    word.isPlain = false
                    advance()
                    readDoubleQuoted(&literal, &parts, &statement)
                case "\\":
                    word.isPlain = false
                    advance()
                    if let escaped = current {
                        if escaped != "\n" { literal.unicodeScalars.append(escaped) }
                        advance()
                    }
                case "$":
                    word.isPlain = false
                    flush()
                    readExpansion(&literal, &parts, &statement)
                case "`":
                    statement.unsupported = true  // command substitution
                    skipBackquoted()
                case "~" where position == atStart || (assignmentName != nil && position == valueStart):
                    statement.unsupported = true  // tilde expansion needs the user database
                    literal.unicodeScalars.append(c)
                    advance()
                case "=" where assignmentName == nil && word.isPlain && ShellAssignments.isName(literal) && parts.isEmpty:
                    assignmentName = literal
                    literal = ""
                    advance()
                    valueStart = position
                default:
                    literal.unicodeScalars.append(c)
                    advance()
                }
            }
            flush()
            word.raw = String(String.UnicodeScalarView(text[atStart..<position]))
            if let name = assignmentName {
                word.assignment = (name, parts)
                word.isPlain = false
            }
            word.parts = parts
            return word
        }

        /// After the opening quote, up to and past the closing one.
        mutating func readDoubleQuoted(_ literal: inout String, _ parts: inout [Part], _ statement: inout ParsedStatement) {
            while let c = current, c != "\"" {
                switch c {
                case "\\":
                    advance()
                    guard let escaped = current else { break }
                    if escaped == "\n" {
                        // line continuation: nothing
                    } else if escaped == "$" || escaped == "`" || escaped == "\"" || escaped == "\\" {
                        literal.unicodeScalars.append(escaped)
                    } else {
                        literal.unicodeScalars.append("\\")
                        literal.unicodeScalars.append(escaped)
                    }
                    advance()
                default:
                    readExpanding(c, &literal, &parts, &statement)
                }
            }
            if current == nil { statement.unsupported = true } else { advance() }
        }

        /// A character where double quotes and `${…}` words agree: `$` starts
        /// an expansion, a backquote a command substitution (unsupported),
        /// anything else is itself.
        mutating func readExpanding(_ c: Unicode.Scalar, _ literal: inout String, _ parts: inout [Part],
                                    _ statement: inout ParsedStatement) {
            switch c {
            case "$":
                if !literal.isEmpty { parts.append(.literal(literal)); literal = "" }
                readExpansion(&literal, &parts, &statement)
            case "`":
                statement.unsupported = true
                skipBackquoted()
            default:
                literal.unicodeScalars.append(c)
                advance()
            }
        }

        /// At a `$`: a variable, a `${…}` form, or a literal `$`.
        mutating func readExpansion(_ literal: inout String, _ parts: inout [Part], _ statement: inout ParsedStatement) {
            advance()  // $
            guard let c = current else { literal += "$"; return }
            if c == "{" {
                advance()
                let name = readName()
                guard !name.isEmpty else { statement.unsupported = true; skipBraced(); return }
                if current == "}" {
                    advance()
                    parts.append(.variable(name))
                    return
                }
                var colon = false
                if current == ":" { colon = true; advance() }
                guard let use = current, use == "-" || use == "+" else {
                    statement.unsupported = true  // ${NAME=…}, ${NAME?…}, ${NAME#…}, ${NAME%…}
                    skipBraced()
                    return
                }
                advance()
                let word = readBracedWord(&statement)
                parts.append(.alternative(name: name, colon: colon, use: Character(use), word: word))
            } else if c == "_" || ShellAssignments.isLetter(c) {
                parts.append(.variable(readName()))
            } else if c == "(" {
                statement.unsupported = true  // command substitution or arithmetic
                skipParenthesized()
            } else if ("0"..."9").contains(c) || "@*#?$!-".unicodeScalars.contains(c) {
                statement.unsupported = true  // positional or special parameters
                advance()
            } else {
                literal += "$"
            }
        }

        mutating func readName() -> String {
            var name = ""
            while let c = current, c == "_" || ShellAssignments.isLetter(c) || (!name.isEmpty && ("0"..."9").contains(c)) {
                name.unicodeScalars.append(c)
                advance()
            }
            return name
        }

        /// The word of `${NAME-word}` up to and past its `}`.
        mutating func readBracedWord(_ statement: inout ParsedStatement) -> [Part] {
            var literal = ""
            var parts: [Part] = []
            while let c = current, c != "}" {
                switch c {
                case "'":
                    advance()
                    while let q = current, q != "'" { literal.unicodeScalars.append(q); advance() }
                    if current != nil { advance() }
                case "\"":
                    advance()
                    readDoubleQuoted(&literal, &parts, &statement)
                case "\\":
                    advance()
                    if let escaped = current { literal.unicodeScalars.append(escaped); advance() }
                default:
                    readExpanding(c, &literal, &parts, &statement)
                }
            }
            if current == nil { statement.unsupported = true } else { advance() }
            if !literal.isEmpty { parts.append(.literal(literal)) }
            return parts
        }

        /// At the `(` of `$(…)` or `$((…))`: past its matching `)`, so the
        /// statement around it is skipped as one.
        mutating func skipParenthesized() {
            var depth = 0
            while let c = current {
                switch c {
                case "(": depth += 1
                case ")": depth -= 1
                case "'":
                    advance()
                    while let q = current, q != "'" { advance() }
                case "\\":
                    advance()
                case "\"":
                    advance()
                    while let q = current, q != "\"" {
                        if q == "\\" { advance() }
                        if current != nil { advance() }
                    }
                default: break
                }
                if current != nil { advance() }
                if depth == 0 { return }
            }
        }

        /// At an opening backquote: past the closing one.
        mutating func skipBackquoted() {
            advance()
            while let c = current, c != "`" {
                if c == "\\" { advance() }
                if current != nil { advance() }
            }
            if current != nil { advance() }
        }

        mutating func skipBraced() {
            while let c = current, c != "}" && c != "\n" { advance() }
            if current == "}" { advance() }
        }
    }
}

