import ArgumentParser
import FoundationEssentials
import Glibc
import HuskCore
import HuskRegistry
import HuskRunCommand

struct Login: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login",
        abstract: "Check and store credentials for a registry.",
        discussion: """
            Asks the registry whether the user name and password are good (Basic or \
            Bearer-token authentication) and only then stores them, mode 0600, in \
            $XDG_CONFIG_HOME/husk/auth.json (Docker's config.json format). Without \
            --password-stdin the password is read from the terminal without echo. \
            A password or token is never printed, not even with --debug.
            """)

    @Argument(help: "The registry: HOST[:PORT] (docker.io for Docker Hub).")
    var registryName: String

    @Option(name: [.short, .long], help: "User name (asked for when not given).")
    var username: String?

    @Flag(help: "Read the password from standard input (one line).")
    var passwordStdin = false

    @OptionGroup var registry: RegistryFlags
    @OptionGroup var global: GlobalOptions

    func run() throws {
        global.bootstrapLogging()
        let name = Self.registryName(registryName)
        guard let user = username ?? Self.prompt("Username: ", echo: true), !user.isEmpty else {
            throw HuskError(.usage, "login to \(name): no user name given (use --username)")
        }
        let password: String?
        if passwordStdin {
            password = readLine(strippingNewline: true)
        } else {
            password = Self.prompt("Password: ", echo: false)
        }
        guard let password, !password.isEmpty else {
            throw HuskError(.usage, "login to \(name): no password given (pipe it to --password-stdin)")
        }
        let settings = try registry.settings()
        let credentials = RegistryCredentials(username: user, password: password)
        let client = try RegistryClient(registry: name, settings: settings, credentials: credentials)
        do {
            try runBlocking { try await client.using { try await $0.checkLogin() } }
        } catch let error as HuskError where error.code == .unauthorized {
            throw HuskError(.unauthorized, "login failed for \(name): unauthorized")
        }
        try settings.credentials.store(credentials, for: name)
        if !global.quiet { StandardStream.writeError("husk: logged in to \(name)\n") }
    }

    /// `https://host:port/` or `docker://host` as users paste them → `host:port`.
    static func registryName(_ text: String) -> String {
        var name = Substring(text)
        for prefix in ["docker://", "https://", "http://"] where name.hasPrefix(prefix) { name = name.dropFirst(prefix.count) }
        if let slash = name.firstIndex(of: "/") { name = name[..<slash] }
        return name == "index.docker.io" || name == "registry-1.docker.io" ? "docker.io" : String(name)
    }

    /// A line from the terminal (not stdin, which may be a pipe), echo off for passwords.
    static func prompt(_ text: String, echo: Bool) -> String? {
        let tty = open("/dev/tty", O_RDWR | O_CLOEXEC)
        guard tty >= 0 else { return nil }
        defer { close(tty) }
        _ = text.withCString { write(tty, $0, strlen($0)) }
        var saved = termios()
        let hidden = !echo && tcgetattr(tty, &saved) == 0
        if hidden {
            var quiet = saved
            quiet.c_lflag &= ~tcflag_t(ECHO)
            tcsetattr(tty, TCSANOW, &quiet)
        }
        defer {
            if hidden {
                tcsetattr(tty, TCSANOW, &saved)
                _ = write(tty, "\n", 1)
            }
        }
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while read(tty, &byte, 1) == 1 && byte != UInt8(ascii: "\n") { line.append(byte) }
        return String(decoding: line, as: UTF8.self)
    }
}

struct Logout: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logout",
        abstract: "Remove stored credentials for a registry.",
        discussion: "Removes the registry from $XDG_CONFIG_HOME/husk/auth.json. Docker's config.json is left alone.")

    @Argument(help: "The registry: HOST[:PORT].")
    var registryName: String

    @OptionGroup var global: GlobalOptions

    func run() throws {
        global.bootstrapLogging()
        let name = Login.registryName(registryName)
        let store = CredentialStore(environment: ProcessInfo.processInfo.environment)
        guard try store.remove(name) else {
            throw HuskError(.notFound, "not logged in to \(name) (no entry in \(store.huskFile))")
        }
        if !global.quiet { StandardStream.writeError("husk: logged out of \(name)\n") }
    }
}
