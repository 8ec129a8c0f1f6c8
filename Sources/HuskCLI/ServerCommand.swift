import ArgumentParser
import FoundationEssentials
import HuskCore
import HuskRuntime

struct Server: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: "This user's image servers on this node: list them, stop them.",
        discussion: """
            The first husk run, exec or shell of a squashfs image starts an image server: a husk-server \\
            process that keeps the image mounted (one husk-fuse process) in a user and mount namespace of \\
            its own. Later runs of the same image, with the same id mapping (--fakeroot or not), join it: \\
            they start faster, read what earlier runs read from the kernel's caches, and the ranks of a job \\
            share one FUSE server and one user namespace (so MPI's single-copy transfers work between them). \\
            Binds, --contain, --pid, seccomp and the environment stay per container. A server ends \\
            HUSK_IDLE seconds (default 30) after its last container; HUSK_IDLE=0 turns servers off (every \\
            run mounts its image itself). Only your own processes outside containers can join; sockets \\
            live in $XDG_RUNTIME_DIR/husk/servers, else $TMPDIR/husk-$UID/servers, hidden from containers.

            A start also leaves a warm planner (a husk-planner process) for HUSK_IDLE seconds after its last \
            request: husk has it plan the next starts, so that a start does not load husk's Swift program \
            (husk-plan), and about half of a repeat start's time goes. Each start is planned afresh, in a \
            child of the planner (forked ahead: a husk-spare process waits for the next start), from the \
            start's own command line, environment, working directory, umask and descriptors; only a \
            process of yours with the planner's ids, groups, capabilities, namespaces, root, cgroup and \
            limits is planned for (any other start runs husk-plan). Its socket \
            is beside the servers' (planner-*); it is not dumpable; kill ends it, and nothing is lost but \
            one start's speed. It keeps the image it first planned for open while that file is unchanged \
            (a replaced or rewritten file is opened afresh), so a deleted image's space returns when it \
            ends. HUSK_IDLE=0 turns it off too.
            """,
        subcommands: [ServerList.self, ServerStop.self])
}

struct ServerList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "The running image servers.")

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func run() throws {
        let servers = try ImageServer.list(environment: ProcessInfo.processInfo.environment)
        if json {
            try printJSON(servers)
            return
        }
        func column(_ text: String, _ width: Int) -> String { text.padded(toWidth: width) }
        print(column("KEY", 34) + column("PID", 9) + column("CONTAINERS", 12) + "IMAGE")
        for server in servers {
            print(column(server.key, 34) + column("\(server.pid)", 9) + column("\(server.containers)", 12) + server.image)
        }
    }
}

struct ServerStop: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stop",
        abstract: "Stop image servers: they take no new containers and end when their running ones have.")

    @Flag(help: "Stop every image server of yours on this node.")
    var all = false

    @Argument(help: "Servers to stop: a KEY from husk server list, or an image file (its servers).")
    var targets: [String] = []

    func run() throws {
        let environment = ProcessInfo.processInfo.environment
        guard all != !targets.isEmpty else {
            throw ValidationError("name servers to stop (a KEY or an image file), or give --all")
        }
        let running = try ImageServer.list(environment: environment)
        var keys: [String] = all ? running.map(\.key) : []
        for target in targets {
            if target.allSatisfy(\.isHexDigit), target.count == 32 {
                keys.append(target)
                continue
            }
            let path = BindOption.normalize(target.hasPrefix("/") ? target : FileManager.default.currentDirectoryPath + "/" + target)
            let matching = running.filter { $0.image == path }.map(\.key)
            guard !matching.isEmpty else { throw HuskError(.notFound, "no image server runs for \(target) (husk server list shows them)") }
            keys += matching
        }
        for key in keys where try !ImageServer.stop(key: key, environment: environment) {
            throw HuskError(.notFound, "image server \(key) does not answer (it has ended)")
        }
    }
}
