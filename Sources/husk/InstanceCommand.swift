import ArgumentParser
import Foundation
import HuskCore
import HuskRuntime

struct Instance: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "instance",
        abstract: "Long-running containers (services for a workflow): start, list, stop; enter one with husk exec instance://NAME.",
        discussion: """
            An instance always has its own PID namespace; stopping it (or its command ending) ends every \\
            process in it and removes its mounts. State lives in $XDG_RUNTIME_DIR/husk/instances, else in \\
            $TMPDIR/husk-$UID/instances (checked: yours, 0700, no symlink), with the instance's output in \\
            NAME.out and NAME.err there. Every command checks NAME the same way.
            """,
        subcommands: [InstanceStart.self, InstanceList.self, InstanceStop.self])
}

struct InstanceStart: ParsableCommand, RunsContainer {
    static let configuration = CommandConfiguration(
        commandName: "start",
        abstract: "Start IMAGE in the background as instance NAME: its /.husk/startscript, a SIF's /.singularity.d/startscript, else Entrypoint + (ARGS or Cmd).",
        discussion: runDiscussion)

    @OptionGroup var flags: RunFlags

    @Argument(help: "The instance's name: letters, digits, '_', '.', '-'.")
    var name: String

    @Argument(parsing: .captureForPassthrough, help: "Arguments for the start command.")
    var arguments: [String] = []

    func run() throws {
        try InstanceStore.validate(name: name)
        let store = try InstanceStore(environment: ProcessInfo.processInfo.environment)
        if let existing = try store.load(name), InstanceStore.isAlive(existing) {
            throw HuskError(.usage, "instance \(name) is already running (pid \(existing.pid)); stop it first")
        }
        var planner = try flags.planner()
        planner.options.pid = true
        let command = try planner.instanceArguments(arguments)
        let plan = try planner.plan(arguments: command)
        try store.remove(name)
        let starter = try Launcher.starterPath(environment: ProcessInfo.processInfo.environment)
        let pid = try Launcher.spawnDetached(plan, starter: starter, output: try store.outputPath(name),
                                             errors: try store.errorPath(name))
        guard let started = InstanceStore.startTime(of: pid) else {
            throw HuskError(.io, "instance \(name) exited at once: \(Self.lastLine(try store.errorPath(name)))")
        }
        try Self.waitUntilRunning(pid: pid, name: name, store: store)
        let created = ISO8601DateFormatter().string(from: Date())
        try store.save(InstanceState(name: name, pid: pid, startTime: started, image: planner.image.path,
                                     command: command, created: created, fakeroot: flags.fakeroot))
        print("instance \(name) started (pid \(pid))")
    }

    /// Ready when the command runs: one of the starter's children (the
    /// other is the FUSE server) is the instance's init, and init's child
    /// the command.
    static func waitUntilRunning(pid: Int32, name: String, store: InstanceStore) throws {
        for _ in 0..<200 {
            if !InstanceStore.isRunning(pid) {
                throw HuskError(.io, "instance \(name) failed to start: \(lastLine(try store.errorPath(name)))")
            }
            if InstanceStore.children(of: pid).contains(where: { !InstanceStore.children(of: $0).isEmpty }) {
                return
            }
            usleep(25_000)
        }
        throw HuskError(.io, "instance \(name) did not start within 5 s: \(lastLine(try store.errorPath(name)))")
    }

    static func lastLine(_ path: String) -> String {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        let line = text.split(separator: "\n").last.map(String.init) ?? "no message"
        return line.hasPrefix("husk: ") ? String(line.dropFirst(6)) : line
    }
}

struct InstanceList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "The running instances.")

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func run() throws {
        let instances = try InstanceStore(environment: ProcessInfo.processInfo.environment).all()
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(instances), as: UTF8.self))
            return
        }
        print("NAME".padding(toLength: 20, withPad: " ", startingAt: 0) + "PID".padding(toLength: 9, withPad: " ", startingAt: 0) + "IMAGE")
        for instance in instances {
            print(instance.name.padding(toLength: 20, withPad: " ", startingAt: 0)
                  + "\(instance.pid)".padding(toLength: 9, withPad: " ", startingAt: 0) + instance.image)
        }
    }
}

struct InstanceStop: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stop",
        abstract: "Stop instances: SIGNAL (default TERM) to the command, SIGKILL after --timeout seconds.")

    @Flag(help: "Stop every instance.")
    var all = false

    @Option(help: ArgumentHelp("The signal to send first, by name or number.", valueName: "SIG"))
    var signal = "TERM"

    @Option(help: "Seconds to wait before SIGKILL.")
    var timeout = 10

    @Argument(help: "The instance to stop.")
    var name: String?

    func run() throws {
        let store = try InstanceStore(environment: ProcessInfo.processInfo.environment)
        let number = try Self.signalNumber(signal)
        let targets: [InstanceState]
        if all {
            targets = store.all()
        } else {
            guard let name else { throw HuskError(.usage, "name an instance to stop, or use --all") }
            guard let state = try store.load(name), InstanceStore.isAlive(state) else {
                try store.remove(name)
                throw HuskError(.notFound, "no running instance \(name) (husk instance list shows them)")
            }
            targets = [state]
        }
        for state in targets {
            // The starter forwards the signal to the command; when the command
            // ends, the PID namespace and every process in it end with it.
            kill(state.pid, number)
            var waited = 0
            while InstanceStore.isAlive(state) && waited < timeout * 20 {
                usleep(50_000)
                waited += 1
            }
            if InstanceStore.isAlive(state) {
                kill(state.pid, SIGKILL)
                while InstanceStore.isAlive(state) { usleep(20_000) }
            }
            try store.remove(state.name)
            print("instance \(state.name) stopped")
        }
    }

    static func signalNumber(_ text: String) throws -> Int32 {
        let names: [String: Int32] = ["HUP": SIGHUP, "INT": SIGINT, "QUIT": SIGQUIT, "KILL": SIGKILL, "USR1": SIGUSR1,
                                      "USR2": SIGUSR2, "TERM": SIGTERM]
        var key = text.uppercased()
        if key.hasPrefix("SIG") { key = String(key.dropFirst(3)) }
        if let number = names[key] ?? Int32(text), number > 0, number < 65 { return number }
        throw HuskError(.usage, "unknown signal \"\(text)\": use TERM, INT, HUP, QUIT, USR1, USR2, KILL or a number")
    }
}
