import ArgumentParser
import Foundation
import HuskCore
import HuskRuntime

extension RunOptions.Mode: ExpressibleByArgument {}

/// The options of run, exec, shell and env (husk-run(1) documents them).
struct RunFlags: ParsableArguments {
    @Option(name: [.customShort("B"), .long], help: ArgumentHelp(
        "Bind SRC at DST (default: the same path), read-only with :ro. Repeatable; comma-separated lists too.",
        valueName: "SRC[:DST[:ro|rw]]"))
    var bind: [String] = []

    @Option(name: .long, help: ArgumentHelp("Set a variable inside (highest precedence). Repeatable.",
                                                       valueName: "NAME=VALUE"))
    var env: [String] = []

    @Option(name: .long, help: ArgumentHelp("Read NAME=VALUE lines (# comments, optional export and quotes).",
                                            valueName: "FILE"))
    var envFile: String?

    @Flag(name: [.customShort("e"), .long], help: "Pass no host variables, not even the scheduler/MPI ones.")
    var cleanenv = false

    @Option(name: .long, help: ArgumentHelp(
        "Also pass these host variables (NAME or PREFIX*, comma-separated); all: every host variable (Singularity's behaviour); none: like --cleanenv.",
        valueName: "LIST|all|none"))
    var envPassthrough: String?

    @Flag(name: [.customShort("c"), .long], help: "Fresh /tmp and /var/tmp, no home and no current directory: only what is asked.")
    var contain = false

    @Flag(name: .long, help: "Do not bind the home directory.")
    var noHome = false

    @Option(name: .long, help: ArgumentHelp("Bind SRC as the home directory (at DST, default SRC).", valueName: "SRC[:DST]"))
    var home: String?

    @Option(name: .long, help: ArgumentHelp("Working directory inside.", valueName: "DIR"))
    var pwd: String?

    @Flag(name: .long, help: "A writable tmpfs layer over the image; changes vanish when the container exits.")
    var writableTmpfs = false

    @Flag(name: .long, help: "Be uid 0 inside the user namespace (no privilege on the host).")
    var fakeroot = false

    @Flag(name: .long, help: "A PID namespace: the container sees only its own processes.")
    var pid = false

    @Option(help: ArgumentHelp(
        "fuse: mount the image through FUSE; extract: extract it once into $TMPDIR/husk-$UID/rootfs and run from there; auto: extract only when /dev/fuse is unusable.",
        valueName: "auto|fuse|extract"))
    var mode: RunOptions.Mode = .auto

    var options: RunOptions {
        var options = RunOptions()
        options.binds = bind
        options.environment = env
        options.envFile = envFile
        options.cleanenv = cleanenv
        options.envPassthrough = envPassthrough
        options.contain = contain
        options.noHome = noHome
        options.home = home
        options.workingDirectory = pwd
        options.writableTmpfs = writableTmpfs
        options.fakeroot = fakeroot
        options.pid = pid
        options.mode = mode
        return options
    }

    /// Resolves the image and builds a planner for it.
    func planner(image argument: String) throws -> LaunchPlanner {
        let host = ProcessInfo.processInfo.environment
        let image = try RuntimeImage.open(argument, cacheDirectory: RuntimeImage.defaultCacheDirectory(environment: host))
        return LaunchPlanner(image: image, options: options, user: UserIdentity.current(), hostEnvironment: host,
                             currentDirectory: FileManager.default.currentDirectoryPath)
    }

    /// Becomes husk-starter running `arguments` in the image.
    func launch(_ planner: LaunchPlanner, arguments: [String]) throws -> Never {
        let plan = try planner.plan(arguments: arguments)
        let starter = try Launcher.starterPath(environment: ProcessInfo.processInfo.environment)
        try Launcher.exec(plan, starter: starter)
    }
}

struct Exec: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a command in an image, as yourself, without root.",
        discussion: """
            IMAGE is a .sqsh file, a directory, or any source husk convert takes (converted once into \
            the cache). The exit status is the command's; 128+N when it is killed by signal N; 127 when \
            it is not found in the image, 126 when it is not executable; 255 when Husk itself fails.
            """)

    @OptionGroup var flags: RunFlags
    @OptionGroup var global: GlobalOptions

    @Argument(help: "The image: FILE.sqsh, a directory, oci:DIR, oci-archive:FILE or docker-archive:FILE.")
    var image: String

    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments.")
    var command: [String] = []

    func run() throws {
        global.bootstrapLogging()
        guard !command.isEmpty else { throw HuskError(.usage, "husk exec needs a command after the image") }
        try flags.launch(try flags.planner(image: image), arguments: command)
    }
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run an image's own command: Entrypoint + (ARGS, or else Cmd), as OCI runtimes do.")

    @OptionGroup var flags: RunFlags
    @OptionGroup var global: GlobalOptions

    @Argument(help: "The image: FILE.sqsh, a directory, oci:DIR, oci-archive:FILE or docker-archive:FILE.")
    var image: String

    @Argument(parsing: .captureForPassthrough, help: "Arguments replacing the image's Cmd.")
    var arguments: [String] = []

    func run() throws {
        global.bootstrapLogging()
        let planner = try flags.planner(image: image)
        try flags.launch(planner, arguments: try planner.runArguments(arguments))
    }
}

struct Shell: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "An interactive shell in an image (its /bin/bash, else /bin/sh), with a prompt naming the image.")

    @OptionGroup var flags: RunFlags
    @OptionGroup var global: GlobalOptions

    @Argument(help: "The image: FILE.sqsh, a directory, oci:DIR, oci-archive:FILE or docker-archive:FILE.")
    var image: String

    func run() throws {
        global.bootstrapLogging()
        var planner = try flags.planner(image: image)
        planner.options.environment.append("PS1=[\(planner.image.name)] \\w \\$ ")
        try flags.launch(planner, arguments: planner.shellArguments())
    }
}

struct Env: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the environment a container of the image would get, one NAME=VALUE per line, sorted.")

    @OptionGroup var flags: RunFlags
    @OptionGroup var global: GlobalOptions

    @Argument(help: "The image: FILE.sqsh, a directory, oci:DIR, oci-archive:FILE or docker-archive:FILE.")
    var image: String

    func run() throws {
        global.bootstrapLogging()
        let plan = try flags.planner(image: image).plan(arguments: ["true"])
        print(plan.environment.joined(separator: "\n"))
    }
}
