//! One log line that matters for a 50x, as the event model the rest of `diagnose` reads.

use serde::Serialize;

/// What nginx was doing with the upstream when it gave up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    Connecting,
    Sending,
    ReadingHeader,
    /// `while reading upstream`: the headers were sent already.
    ReadingBody,
    Other,
}

impl Phase {
    pub fn of(message: &str) -> Phase {
        if message.contains("while connecting to upstream") {
            Phase::Connecting
        } else if message.contains("while reading response header from upstream") {
            Phase::ReadingHeader
        } else if message.contains("while sending request to upstream") {
            Phase::Sending
        } else if message.contains("while reading upstream") {
            Phase::ReadingBody
        } else {
            Phase::Other
        }
    }
}

/// The kinds of line nginx and PHP-FPM write about upstreams, pools and limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Kind {
    // nginx
    /// `upstream timed out (110: Connection timed out) while …`
    UpstreamTimedOut { phase: Phase },
    /// `connect() to unix:/x failed (2: No such file or directory)`, `connect() failed (111: …)`.
    ConnectFailed { errno: u16 },
    /// `recv() failed (104: Connection reset by peer)` (also readv/writev/send).
    ConnectionReset,
    /// `upstream prematurely closed connection` / `… FastCGI stdout` / `… FastCGI request`.
    PrematureClose,
    TooBigHeader,
    InvalidHeader,
    NoLiveUpstreams,
    /// `upstream server temporarily disabled` (a retry follows; not a 50x by itself).
    ServerDisabled,
    NoResolver,
    NotResolved,
    /// `limiting requests, excess: … by zone "z"` (also `, dry run,`).
    LimitReq,
    /// `delaying request, excess: …`: slower, not refused.
    LimitReqDelay,
    /// `limiting connections by zone "z"`.
    LimitConn,
    /// `could not allocate node in limit_req zone "z"`.
    LimitZoneFull,
    /// `N worker_connections are not enough`.
    WorkerConnections,
    /// `(24: Too many open files)`.
    TooManyOpenFiles,
    /// `FastCGI sent in stderr: "Primary script unknown"`.
    PrimaryScriptUnknown,
    /// `FastCGI sent in stderr: "PHP message: PHP Fatal error: …"`.
    PhpFatal,
    // PHP-FPM
    /// `server reached pm.max_children setting (N)` (dynamic) / `max_children` (ondemand).
    MaxChildren,
    /// `seems busy (you may need to increase pm.start_servers, …)`.
    SeemsBusy,
    /// `The maximum number of processes has been reached`.
    ProcessMax,
    /// `child N exited on signal S`.
    ChildSignal { signal: u8 },
    /// `child N exited with code C` (C ≠ 0).
    ChildExitCode,
    /// `execution timed out (… sec), terminating` (request_terminate_timeout).
    ExecutionTimedOut,
    /// `executing too slow (… sec), logging` in PHP-FPM's log.
    SlowRequest,
    /// An entry of the pool's slowlog (where the slow request spent its time).
    SlowlogEntry,
    /// `failed processes threshold (…) is reached, initiating reload`.
    FailedThreshold,
    /// `Connection disallowed: IP address '…' has been dropped.` (listen.allowed_clients).
    ConnectionDisallowed,
    /// `ERROR`/`ALERT` at start-up: the pool (or all of PHP-FPM) does not run.
    FpmStartFailed,
}

impl Kind {
    /// The status the client got for a request this line is about (`None`: no request
    /// failed because of it, or it depends on what happened next).
    pub fn status(self) -> Option<u16> {
        use Kind::*;
        match self {
            UpstreamTimedOut { phase: Phase::ReadingBody } => None,
            UpstreamTimedOut { .. } => Some(504),
            ConnectFailed { errno: 110 } => Some(502),
            ConnectFailed { .. } | ConnectionReset | PrematureClose | TooBigHeader | InvalidHeader | NoLiveUpstreams | NoResolver | NotResolved => Some(502),
            LimitReq | LimitConn | LimitZoneFull => Some(503),
            WorkerConnections | TooManyOpenFiles | PhpFatal => Some(500),
            PrimaryScriptUnknown => Some(404),
            ChildSignal { .. } | ChildExitCode | ExecutionTimedOut | ConnectionDisallowed => Some(502),
            FpmStartFailed => Some(502),
            MaxChildren | ProcessMax | FailedThreshold => None,
            ServerDisabled | LimitReqDelay | SeemsBusy | SlowRequest | SlowlogEntry => None,
        }
    }

    /// Does this line tell of a 502/503/504 (or the pool trouble that makes them)?
    pub fn is_50x_cause(self) -> bool {
        matches!(self.status(), Some(s) if (502..=504).contains(&s))
            || matches!(self, Kind::MaxChildren | Kind::ProcessMax | Kind::FailedThreshold | Kind::WorkerConnections | Kind::TooManyOpenFiles)
    }

    /// A stable machine name: `connect-failed-111`, `upstream-timed-out-reading-header`.
    pub fn code(self) -> String {
        use Kind::*;
        match self {
            UpstreamTimedOut { phase } => format!("upstream-timed-out-{}", phase_code(phase)),
            ConnectFailed { errno } => format!("connect-failed-{errno}"),
            ChildSignal { signal } => format!("child-signal-{signal}"),
            other => {
                let s = serde_json::to_value(other).ok().and_then(|v| v.get("kind").and_then(|k| k.as_str().map(str::to_string)));
                s.unwrap_or_default()
            }
        }
    }

    /// Lines that tell of the same cause from the other side, or of its next stage: a
    /// rule that quotes one of them explains the other too.
    pub fn same_cause(self) -> &'static [Kind] {
        use Kind::*;
        const NO_LISTENER: &[Kind] = &[ConnectFailed { errno: 2 }, ConnectFailed { errno: 111 }];
        const SATURATED: &[Kind] = &[ConnectFailed { errno: 11 }, MaxChildren];
        const KILLED: &[Kind] = &[ConnectionReset, PrematureClose, ChildSignal { signal: 9 }, ChildSignal { signal: 15 }, ExecutionTimedOut];
        match self {
            ConnectFailed { errno: 2 | 111 } => NO_LISTENER,
            ConnectFailed { errno: 11 } | MaxChildren => SATURATED,
            ConnectionReset | PrematureClose | ChildSignal { signal: 9 | 15 } | ExecutionTimedOut => KILLED,
            _ => &[],
        }
    }

    /// For people: what happened, in a few words.
    pub fn title(self) -> String {
        use Kind::*;
        match self {
            UpstreamTimedOut { phase: Phase::Connecting } => "upstream connect timed out".into(),
            UpstreamTimedOut { phase: Phase::Sending } => "upstream timed out while nginx sent the request".into(),
            UpstreamTimedOut { phase: Phase::ReadingBody } => "upstream timed out mid-response".into(),
            UpstreamTimedOut { .. } => "upstream did not answer in time (read timeout)".into(),
            ConnectFailed { errno: 2 } => "socket does not exist (2: No such file or directory)".into(),
            ConnectFailed { errno: 111 } => "nothing listens (111: Connection refused)".into(),
            ConnectFailed { errno: 13 } => "nginx may not open the socket (13: Permission denied)".into(),
            ConnectFailed { errno: 11 } => "listen queue full (11: Resource temporarily unavailable)".into(),
            ConnectFailed { errno: 110 } => "connect timed out in the kernel (110)".into(),
            ConnectFailed { errno } => format!("connect() failed ({errno})"),
            ConnectionReset => "upstream reset the connection (104)".into(),
            PrematureClose => "upstream closed the connection before a full response header".into(),
            TooBigHeader => "response header bigger than the buffer (too big header)".into(),
            InvalidHeader => "upstream sent an invalid header".into(),
            NoLiveUpstreams => "no live upstreams".into(),
            ServerDisabled => "upstream server temporarily disabled".into(),
            NoResolver => "no resolver defined for a variable upstream".into(),
            NotResolved => "upstream name could not be resolved".into(),
            LimitReq => "request rejected by limit_req".into(),
            LimitReqDelay => "request delayed by limit_req".into(),
            LimitConn => "connection rejected by limit_conn".into(),
            LimitZoneFull => "limit_req zone full".into(),
            WorkerConnections => "worker_connections are not enough".into(),
            TooManyOpenFiles => "too many open files (24)".into(),
            PrimaryScriptUnknown => "Primary script unknown (SCRIPT_FILENAME)".into(),
            PhpFatal => "PHP fatal error".into(),
            MaxChildren => "pool reached pm.max_children".into(),
            SeemsBusy => "pool seems busy (spawning fast)".into(),
            ProcessMax => "PHP-FPM reached process.max".into(),
            ChildSignal { signal: 9 } => "PHP worker killed (signal 9, SIGKILL: OOM killer?)".into(),
            ChildSignal { signal: 11 } => "PHP worker crashed (signal 11, SIGSEGV)".into(),
            ChildSignal { signal: 15 } => "PHP worker terminated (signal 15, SIGTERM)".into(),
            ChildSignal { signal } => format!("PHP worker exited on signal {signal}"),
            ChildExitCode => "PHP worker exited with an error code".into(),
            ExecutionTimedOut => "request_terminate_timeout killed a request".into(),
            SlowRequest => "slow request (request_slowlog_timeout passed)".into(),
            SlowlogEntry => "slowlog entry (where a slow request spent its time)".into(),
            FailedThreshold => "emergency restart (failed processes threshold)".into(),
            ConnectionDisallowed => "connection dropped by listen.allowed_clients".into(),
            FpmStartFailed => "PHP-FPM failed to start".into(),
        }
    }
}

fn phase_code(p: Phase) -> &'static str {
    match p {
        Phase::Connecting => "connecting",
        Phase::Sending => "sending",
        Phase::ReadingHeader => "reading-header",
        Phase::ReadingBody => "reading-body",
        Phase::Other => "other",
    }
}

/// Which program wrote the line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Origin {
    Nginx,
    PhpFpm,
    Slowlog,
}

/// A request line as logged: `GET /index.php?x=1 HTTP/1.1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request<'a> {
    pub method: &'a str,
    /// Path and query, as sent.
    pub target: &'a str,
}

impl<'a> Request<'a> {
    pub fn parse(line: &'a str) -> Option<Request<'a>> {
        let mut parts = line.split(' ');
        let method = parts.next().filter(|m| !m.is_empty())?;
        let target = parts.next().unwrap_or("");
        Some(Request { method, target })
    }
}

/// One line (or slowlog entry) turned into an event. Borrows the line it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event<'a> {
    pub origin: Origin,
    /// Unix seconds; `None` when the line has no readable time.
    pub time: Option<i64>,
    /// `error`, `crit`, `warn`, `WARNING`, … as logged.
    pub level: &'a str,
    pub kind: Kind,
    /// The zone of a limit_req/limit_conn line.
    pub zone: Option<&'a str>,
    pub client: Option<&'a str>,
    pub server: Option<&'a str>,
    pub request: Option<Request<'a>>,
    /// As logged: `fastcgi://unix:/run/php/php8.2-fpm.sock:`, `http://127.0.0.1:8080/x`.
    pub upstream: Option<&'a str>,
    pub host: Option<&'a str>,
    /// PHP-FPM's `[pool www]`.
    pub pool: Option<&'a str>,
    /// A script PHP-FPM names (slowlog, timeouts).
    pub script: Option<&'a str>,
    /// The whole line (for slowlog entries: the header).
    pub line: &'a str,
}

impl<'a> Event<'a> {
    pub fn new(origin: Origin, kind: Kind, line: &'a str) -> Self {
        Event { origin, time: None, level: "", kind, zone: None, client: None, server: None, request: None, upstream: None, host: None, pool: None, script: None, line }
    }
}
