import FoundationEssentials
import HuskCore
import HuskTrust

/// A container to run: an image and how to run it. The library's way in;
/// `husk run|exec|shell|instance` are built on it and only parse and print.
///
///     let container = try Container(image: "app.sqsh")
///     let status = try container.run(["python3", "-c", "print(42)"])
public struct Container {
    public var planner: LaunchPlanner

    /// IMAGE as `husk exec` takes it (a .sqsh file, a directory, oci:, oci-archive:,
    /// docker-archive:, docker:// or instance://NAME); `environment` is the
    /// host's (HOME, TMPDIR, HUSK_* and what passes into the container);
    /// `registry` fetches docker:// images (HuskPull's RegistryImages).
    public init(image: String, options: RunOptions = RunOptions(),
                environment: [String: String] = ProcessInfo.processInfo.environment,
                currentDirectory: String = FileManager.default.currentDirectoryPath,
                policy: SitePolicy? = nil, registry: (any RemoteImages)? = nil) throws {
        let policy = try policy ?? SitePolicy.load(environment: environment)
        // Checked here only when a source is converted on the way: the
        // planner checks every state directory once (HuskPaths.prepareAll).
        let unchecked = HuskPaths(environment: environment).cache
        let cache = RuntimeImage.convertsIntoCache(image) ? try PrivateDirectory.prepare(unchecked, what: "the image cache")
                                                          : unchecked
        let opened = try RuntimeImage.open(image, cacheDirectory: cache, registry: registry, policy: policy)
        self.init(image: opened, options: options, environment: environment, currentDirectory: currentDirectory,
                  policy: policy)
    }

    public init(image: RuntimeImage, options: RunOptions = RunOptions(),
                environment: [String: String] = ProcessInfo.processInfo.environment,
                currentDirectory: String = FileManager.default.currentDirectoryPath, policy: SitePolicy = SitePolicy()) {
        planner = LaunchPlanner(image: image, options: options, user: UserIdentity.current(),
                                hostEnvironment: environment, currentDirectory: currentDirectory)
        planner.policy = policy
    }

    public var image: RuntimeImage { planner.image }
    public var options: RunOptions {
        get { planner.options }
        set { planner.options = newValue }
    }

    /// What the starter does for `arguments` (the command and its
    /// arguments): everything checked, the image server attached (HUSK_IDLE),
    /// in a Slurm job the grace after which an orphaned container ends.
    public func plan(_ arguments: [String]) throws -> LaunchPlan { try plan(arguments, planner: planner) }

    private func plan(_ arguments: [String], planner: LaunchPlanner) throws -> LaunchPlan {
        var plan = try planner.plan(arguments: arguments)
        plan.orphanGrace = SlurmJob.orphanGrace(environment: planner.hostEnvironment)
        try ImageServer.attach(to: &plan, contentKey: planner.image.contentKey, environment: planner.hostEnvironment)
        return plan
    }

    /// `plan` for a run about to start: a first run's image server starts
    /// while the rest is planned (`ImageServer.prestart`).
    private func planToStart(_ arguments: [String], starter: String) throws -> LaunchPlan {
        var planner = self.planner
        var early: Int32?
        let contentKey = planner.image.contentKey, environment = planner.hostEnvironment
        planner.whenServerIsSettled = {
            early = ImageServer.prestart(for: $0, contentKey: contentKey, environment: environment, starter: starter)
        }
        // It leaves at once: reaped before the container's starter runs,
        // whose supervisor must have no child but its own.
        defer { if let early { Launcher.reap(early) } }
        return try plan(arguments, planner: planner)
    }

    /// Runs `arguments` in the container as a child of this process, with
    /// its standard input, output and error, and waits for it. Returns the
    /// exit status: the command's, 128+N when a signal N ended it, 255 when
    /// Husk could not start it (its reason is on standard error).
    public func run(_ arguments: [String]) throws -> Int32 {
        let starter = try Launcher.starterPath(environment: planner.hostEnvironment)
        let pid = try Launcher.spawn(try planToStart(arguments, starter: starter), starter: starter)
        return try Launcher.wait(for: pid)
    }

    /// Becomes the container (this process is replaced by the starter):
    /// signals, the terminal and the exit status are the container's.
    public func exec(_ arguments: [String]) throws -> Never {
        let starter = try Launcher.starterPath(environment: planner.hostEnvironment)
        try Launcher.exec(try planToStart(arguments, starter: starter), starter: starter)
    }

    /// `husk run`: the image's Entrypoint + (arguments, or else Cmd).
    public func runArguments(_ arguments: [String]) throws -> [String] { try planner.runArguments(arguments) }

    /// `husk shell`: the image's bash, else sh, with `arguments` for it.
    public func shellArguments(_ arguments: [String] = []) -> [String] { planner.shellArguments(arguments) }
}
