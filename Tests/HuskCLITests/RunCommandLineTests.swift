import ArgumentParser
import Foundation
import Testing
@testable import HuskCLI
@testable import HuskRunCommand

/// RunCommandLine reads husk exec|run|shell without ArgumentParser; these
/// check that it knows exactly RunFlags' names and reads what it takes as
/// ArgumentParser does, and leaves the rest to it.
@Suite struct RunCommandLineTests {
    /// ArgumentParser's reading of `argv`, as RunCommandLine's type.
    func viaArgumentParser(_ argv: [String]) throws -> RunCommandLine {
        switch try Husk.parseAsRoot(argv) {
        case let exec as Exec: RunCommandLine(command: .exec, arguments: exec.flags.arguments, trailing: exec.command)
        case let run as Run: RunCommandLine(command: .run, arguments: run.flags.arguments, trailing: run.arguments)
        case let shell as Shell:
            RunCommandLine(command: .shell, arguments: shell.flags.arguments, trailing: shell.arguments, shell: shell.shell)
        case let other: throw HuskTestFailure("parsed as \(type(of: other))")
        }
    }

    struct HuskTestFailure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// An option's names and whether it is a switch, takes one value or repeats, from ArgumentParser's dump.
    struct Declared: Hashable {
        enum Arity: Hashable { case on, value, values }
        var name: String
        var arity: Arity
    }

    func declared(_ type: ParsableCommand.Type) throws -> Set<Declared> {
        let dump = try JSONSerialization.jsonObject(with: Data(type._dumpHelp().utf8)) as! [String: Any]
        let arguments = (dump["command"] as! [String: Any])["arguments"] as! [[String: Any]]
        let apptainerOnly = Set(ApptainerOnlyFlags.all.flatMap { ["--" + $0.name] + ($0.short.map { ["-\($0)"] } ?? []) })
        var found = Set<Declared>()
        for argument in arguments where argument["kind"] as? String != "positional" {
            let arity: Declared.Arity = argument["kind"] as? String == "flag" ? .on
                : (argument["isRepeating"] as? Bool == true ? .values : .value)
            for name in argument["names"] as? [[String: Any]] ?? [] {
                let spelled = (name["kind"] as? String == "short" ? "-" : "--") + (name["name"] as! String)
                guard !["-h", "--help"].contains(spelled), !apptainerOnly.contains(spelled) else { continue }
                found.insert(Declared(name: spelled, arity: arity))
            }
        }
        return found
    }

    func table(for command: ContainerCommand) -> Set<Declared> {
        Set(RunCommandLine.names.compactMap { name, kind in
            switch kind {
            case .on: Declared(name: name, arity: .on)
            case .values: Declared(name: name, arity: .values)
            case .value, .mode, .pull: Declared(name: name, arity: .value)
            case .shell: command == .shell ? Declared(name: name, arity: .value) : nil
            }
        })
    }

    @Test func theTableHasEveryNameRunFlagsDeclares() throws {
        #expect(table(for: .exec) == (try declared(Exec.self)))
        #expect(table(for: .run) == (try declared(Run.self)))
        #expect(table(for: .shell) == (try declared(Shell.self)))
    }

    /// A value each option takes (ArgumentParser checks --mode and --pull).
    func sampleValue(_ kind: RunCommandLine.Kind) -> String {
        switch kind {
        case .mode: "extract"
        case .pull: "never"
        default: "/some/value"
        }
    }

    @Test func everyNameIsReadAsArgumentParserReadsIt() throws {
        for (name, kind) in RunCommandLine.names {
            let command = if case .shell = kind { "shell" } else { "exec" }
            var forms: [[String]]
            switch kind {
            case .on: forms = [[name]]
            case .values: forms = [[name, "a", name, "b:c,d"]] + (name.hasPrefix("--") ? [[name + "=x=y", name, ""]] : [])
            default: forms = [[name, sampleValue(kind)]] + (name.hasPrefix("--") ? [[name + "=" + sampleValue(kind)]] : [])
            }
            for options in forms {
                let argv = [command] + options + ["image.sqsh", "true", "--pid", "-x"]
                let quick = try #require(RunCommandLine(argv), "\(argv)")
                #expect(quick == (try viaArgumentParser(argv)), "\(argv)")
            }
        }
    }

    @Test(arguments: [
        ["exec", "-B", "/a:/b", "--env=A=1", "--pid", "-c", "--cwd", "/w", "img.sqsh", "ls", "-la", "--help"],
        ["run", "img.sqsh"],
        ["run", "-C", "--rlimit", "nofile=64", "docker://debian:12", "a", "b"],
        ["shell", "-s", "/bin/zsh", "--fakeroot", "img.sif", "x"],
        ["exec", "--mode", "fuse", "--pull", "always", "--nv", "-q", "dir", "true"],
        ["exec", "img", ""],
        ["exec", "", "true"],
    ])
    func commandLinesAgree(argv: [String]) throws {
        let quick = try #require(RunCommandLine(argv))
        #expect(quick == (try viaArgumentParser(argv)))
    }

    /// Help, errors and the less plain forms stay ArgumentParser's.
    @Test(arguments: [
        ["exec", "--help"], ["exec", "-h", "img", "true"], ["exec"], ["exec", "--pid"], ["convert", "a", "b"], [],
        ["exec", "-ce", "img", "true"], ["exec", "-Bsrc", "img", "true"], ["exec", "--pid", "--pid", "img", "true"],
        ["exec", "--home", "a", "--home", "b", "img", "true"], ["exec", "--mode", "bogus", "img", "true"],
        ["exec", "--home", "-x", "img", "true"], ["exec", "--env=-x", "img", "true"], ["exec", "--fakeroot=1", "img", "true"],
        ["exec", "-s", "/bin/sh", "img", "true"], ["exec", "--bogus", "img", "true"], ["exec", "img", "--pid", "true"],
        ["exec", "--", "img", "true"], ["exec", "-", "img"], ["exec", "--bind"], ["exec", "--userns", "img", "true"],
        ["exec", "--mode", "fuse", "--mode=extract", "img", "true"], ["shell", "img", "-c", "true"],
    ])
    func leavesTheRestToArgumentParser(argv: [String]) {
        #expect(RunCommandLine(argv) == nil)
    }
}
