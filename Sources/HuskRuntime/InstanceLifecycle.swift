import FoundationEssentials
import Glibc
import HuskCore

/// Starting and stopping instances (`husk instance start|stop`) as library calls.
extension InstanceStore {
    /// Starts `container` in the background as instance NAME, in a PID
    /// namespace of its own: the image's /.husk/startscript (a SIF's
    /// startscript) with `arguments`, else Entrypoint + (arguments, or Cmd). Its output goes
    /// to NAME.out and NAME.err here. Returns once the command runs.
    public func start(_ name: String, container: Container, arguments: [String]) throws -> InstanceState {
        try Self.validate(name: name)
        if let existing = try load(name), Self.isAlive(existing) {
            throw HuskError(.usage, "instance \(name) is already running (pid \(existing.pid)); stop it first")
        }
        var planner = container.planner
        planner.options.pid = true
        let command = try planner.instanceArguments(arguments)
        let plan = try planner.plan(arguments: command)
        try remove(name)
        let starter = try Launcher.starterPath(environment: planner.hostEnvironment)
        let pid = try Launcher.spawnDetached(plan, starter: starter, output: try outputPath(name), errors: try errorPath(name))
        guard let started = Self.startTime(of: pid) else {
            throw HuskError(.io, "instance \(name) exited at once: \(lastLine(try errorPath(name)))")
        }
        try waitUntilRunning(pid: pid, name: name)
        let state = InstanceState(name: name, pid: pid, startTime: started, image: planner.image.path, command: command,
                                  created: NumberText.utcTime(time(nil)), fakeroot: planner.options.fakeroot)
        try save(state)
        return state
    }

    /// Stops an instance: SIGNAL to its command (the starter forwards it),
    /// SIGKILL after `timeout` seconds; its PID namespace and every process
    /// in it end with the command. Its state is removed.
    public func stop(_ state: InstanceState, signal: Int32 = SIGTERM, timeout: Int = 10) throws {
        kill(state.pid, signal)
        var waited = 0
        while Self.isAlive(state) && waited < timeout * 20 {
            usleep(50_000)
            waited += 1
        }
        if Self.isAlive(state) {
            kill(state.pid, SIGKILL)
            while Self.isAlive(state) { usleep(20_000) }
        }
        try remove(state.name)
    }

    /// The running instance NAME; a dead one's state is removed and reported as missing.
    public func running(_ name: String) throws -> InstanceState {
        guard let state = try load(name), Self.isAlive(state) else {
            try remove(name)
            throw HuskError(.notFound, "no running instance \(name) (husk instance list shows them)")
        }
        return state
    }

    /// `TERM`, `SIGTERM`, `15`: a signal number for `stop`.
    public static func signalNumber(_ text: String) throws -> Int32 {
        let names: [String: Int32] = ["HUP": SIGHUP, "INT": SIGINT, "QUIT": SIGQUIT, "KILL": SIGKILL, "USR1": SIGUSR1,
                                      "USR2": SIGUSR2, "TERM": SIGTERM]
        var key = text.uppercased()
        if key.hasPrefix("SIG") { key = String(key.dropFirst(3)) }
        if let number = names[key] ?? Int32(text), number > 0, number < 65 { return number }
        throw HuskError(.usage, "unknown signal \"\(text)\": use TERM, INT, HUP, QUIT, USR1, USR2, KILL or a number")
    }

    /// Ready when the command runs: one of the starter's children (the
    /// other is the FUSE server) is the instance's init, and init's child
    /// the command.
    func waitUntilRunning(pid: Int32, name: String) throws {
        for _ in 0..<200 {
            if !Self.isRunning(pid) {
                throw HuskError(.io, "instance \(name) failed to start: \(lastLine(try errorPath(name)))")
            }
            if Self.children(of: pid).contains(where: { !Self.children(of: $0).isEmpty }) {
                return
            }
            usleep(25_000)
        }
        throw HuskError(.io, "instance \(name) did not start within 5 s: \(lastLine(try errorPath(name)))")
    }

    func lastLine(_ path: String) -> String {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        let line = text.split(separator: "\n").last.map(String.init) ?? "no message"
        return line.hasPrefix("husk: ") ? String(line.dropFirst(6)) : line
    }
}
