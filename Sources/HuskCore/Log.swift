import Logging

/// Husk logs to stderr through swift-log. The CLI bootstraps the handler and
/// level once (`--debug`, `--quiet`); library code logs, for example, a warning
/// for each layer entry it drops.
public enum HuskLog {
    public static var logger: Logger { Logger(label: "husk") }
}
