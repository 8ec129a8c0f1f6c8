import ArgumentParser
import FoundationEssentials
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
        let store = try InstanceStore(environment: ProcessInfo.processInfo.environment)
        let state = try store.start(name, container: try flags.container(), arguments: arguments)
        print("instance \(state.name) started (pid \(state.pid))")
    }
}

struct InstanceList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "The running instances.")

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func run() throws {
        let instances = try InstanceStore(environment: ProcessInfo.processInfo.environment).all()
        if json {
            try printJSON(instances)
            return
        }
        print("NAME".padded(toWidth: 20) + "PID".padded(toWidth: 9) + "IMAGE")
        for instance in instances {
            print(instance.name.padded(toWidth: 20)
                  + "\(instance.pid)".padded(toWidth: 9) + instance.image)
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
        let number = try InstanceStore.signalNumber(signal)
        let targets: [InstanceState]
        if all {
            targets = store.all()
        } else {
            guard let name else { throw HuskError(.usage, "name an instance to stop, or use --all") }
            targets = [try store.running(name)]
        }
        for state in targets {
            try store.stop(state, signal: number, timeout: timeout)
            print("instance \(state.name) stopped")
        }
    }
}
