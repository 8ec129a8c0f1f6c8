import ArgumentParser
import HuskCore
import HuskRuntime

/// Apptainer's flags that Husk accepts only to ignore them (`noOp` in
/// `ApptainerFlags`) or to refuse them in one line (`refused`). They are
/// declared from that table, so a flag the table names is never an
/// "unknown option", and hidden from --help (husk-run(1) lists them, and
/// the README's compatibility table gives each one's reason).
package struct ApptainerOnlyFlags: ParsableArguments {
    @Flag(name: names(refused: true, value: false), help: .hidden)
    var refusedSwitches: Int

    @Option(name: names(refused: true, value: true), help: .hidden)
    var refusedValues: [String] = []

    @Flag(name: names(refused: false, value: false), help: .hidden)
    var ignoredSwitches: Int

    @Option(name: names(refused: false, value: true), help: .hidden)
    var ignoredValues: [String] = []

    package init() {}

    package static func flags(refused: Bool, value: Bool) -> [ApptainerFlags.Flag] {
        ApptainerFlags.flags { status in
            switch status {
            case .refused: refused
            case .noOp: !refused
            default: false
            }
        }.filter { ($0.value != nil) == value }
    }

    static func names(refused: Bool, value: Bool) -> NameSpecification {
        NameSpecification(flags(refused: refused, value: value).flatMap { flag in
            [NameSpecification.Element.customLong(flag.name)] + (flag.short.map { [.customShort($0)] } ?? [])
        })
    }

    /// Every flag declared here.
    package static var all: [ApptainerFlags.Flag] {
        [true, false].flatMap { refused in [false, true].flatMap { flags(refused: refused, value: $0) } }
    }

    /// How many of these flags were given, and how many of them are refused.
    package struct Count: Equatable {
        var given = 0
        var refused = 0
    }

    package var count: Count {
        Count(given: refusedSwitches + ignoredSwitches + refusedValues.count + ignoredValues.count,
              refused: refusedSwitches + refusedValues.count)
    }

    /// Which of these flags the command line gave, in order. The parser
    /// only counts them (one declaration serves many names): the names are
    /// read back from the arguments before IMAGE, where options are.
    static func given(_ count: Count, arguments: [String], image: String) -> [ApptainerFlags.Flag] {
        guard count.given > 0 else { return [] }
        let known = all
        let options = arguments.firstIndex(of: image).map { Array(arguments[..<$0]) } ?? arguments
        var found: [ApptainerFlags.Flag] = []
        for token in options where token.hasPrefix("-") && token != "-" {
            if token.hasPrefix("--") {
                let name = String(token.dropFirst(2).prefix { $0 != "=" })
                found += known.filter { $0.name == name }
            } else {
                // -u, or short flags run together (-uc)
                found += token.dropFirst().compactMap { letter in known.first { $0.short == letter } }
            }
        }
        return found
    }

    /// Refuses, in one line, the first refused flag given, and
    /// --disable-cache with a registry image (Husk's conversions of
    /// docker:// images always go through its cache).
    static func check(_ count: Count, arguments: [String], image: String, variables: ApptainerFlagVariables) throws {
        let given = given(count, arguments: arguments, image: image)
        if let flag = given.first(where: { if case .refused = $0.status { true } else { false } }) {
            throw HuskError(.usage, ApptainerFlags.refusal(flag, as: "--\(flag.name)"))
        }
        if count.refused > 0 {
            throw HuskError(.usage, "an Apptainer option Husk does not support was given: see the compatibility table in husk-run(1)")
        }
        if let (flag, variable) = try variables.firstRefused() {
            throw HuskError(.usage, ApptainerFlags.refusal(flag, as: variable))
        }
        if image.hasPrefix("docker://") {
            let what = given.contains { $0.name == "disable-cache" } ? "--disable-cache"
                : (try variables.isOn("disable-cache") ? variables.value(of: "disable-cache")!.variable : nil)
            if let what {
                throw HuskError(.usage, "\(what) is not supported with a docker:// image: Husk converts it once into its cache (HUSK_CACHEDIR); --pull always asks the registry again, husk cache clean empties the cache")
            }
        }
    }
}
