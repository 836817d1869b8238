#include "services/platform/db/connection_pool.h"

#include <cppconn/exception.h>
#include <cppconn/resultset.h>
#include <mysql_driver.h>

#include <algorithm>
#include <chrono>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "services/platform/core/status_macros.h"
#include "services/platform/db/sql_errors.h"

namespace cpts::platform::db {
namespace {

// get_driver_instance() fills an unguarded static map on its first call: a function-local
// static makes that first call happen once, whichever thread comes first.
sql::mysql::MySQL_Driver* Driver() {
  static sql::mysql::MySQL_Driver* const driver = []() -> sql::mysql::MySQL_Driver* {
    try {
      return sql::mysql::get_mysql_driver_instance();
    } catch (const sql::SQLException&) {
      return nullptr;  // reported as Internal by Open()
    }
  }();
  return driver;
}

// The C client wants mysql_thread_init()/mysql_thread_end() around the use of a connection on
// every thread; the pool does it the first time a thread acquires.
void EnsureThreadInit() {
  struct ThreadGuard {
    ThreadGuard() : driver(Driver()) {
      if (driver != nullptr) {
        driver->threadInit();
      }
    }
    ~ThreadGuard() {
      if (driver != nullptr) {
        driver->threadEnd();
      }
    }
    sql::mysql::MySQL_Driver* driver;
  };
  thread_local ThreadGuard guard;
}

int WholeSeconds(absl::Duration d) {
  return static_cast<int>(std::clamp<int64_t>(absl::ToInt64Seconds(absl::Ceil(d, absl::Seconds(1))),
                                              1, int64_t{365} * 24 * 3600));
}

// The first two words of a statement name it in errors without echoing values (a CREATE USER
// carries a password).
absl::string_view StatementVerb(std::string_view sql_std) {
  absl::string_view sql(sql_std.data(), sql_std.size());
  size_t begin = sql.find_first_not_of(" \t\r\n");
  if (begin == absl::string_view::npos) {
    return "";
  }
  sql.remove_prefix(begin);
  size_t end = sql.find_first_of(" \t\r\n");
  if (end != absl::string_view::npos) {
    const size_t second = sql.find_first_not_of(" \t\r\n", end);
    if (second != absl::string_view::npos) {
      end = sql.find_first_of(" \t\r\n(", second);
    }
  }
  return sql.substr(0, std::min(end, size_t{40}));
}

std::vector<DbEndpoint> EndpointsOf(const DbConfig& config) {
  absl::StatusOr<std::vector<DbEndpoint>> parsed = ParseDbHosts(config.host, config.port);
  if (parsed.ok()) {
    return *std::move(parsed);
  }
  // Create() never fails: a malformed host is tried as is and reported by the connect error.
  return {DbEndpoint{.host = config.host, .port = config.port}};
}

std::vector<std::string> UrlsOf(const std::vector<DbEndpoint>& endpoints) {
  std::vector<std::string> urls;
  urls.reserve(endpoints.size());
  for (const DbEndpoint& e : endpoints) {
    const bool ipv6 = e.host.find(':') != std::string::npos;
    urls.push_back(absl::StrCat("tcp://", ipv6 ? "[" : "", e.host, ipv6 ? "]" : "", ":", e.port));
  }
  return urls;
}

}  // namespace

absl::StatusOr<std::vector<DbEndpoint>> ParseDbHosts(std::string_view hosts_std, int default_port) {
  const absl::string_view hosts(hosts_std.data(), hosts_std.size());
  std::vector<DbEndpoint> endpoints;
  for (absl::string_view entry : absl::StrSplit(hosts, ',')) {
    entry = absl::StripAsciiWhitespace(entry);
    if (entry.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("database host list '", hosts, "' has an empty entry"));
    }
    DbEndpoint endpoint{.host = std::string(entry), .port = default_port};
    absl::string_view port_text;
    if (entry.front() == '[') {  // [v6-address] or [v6-address]:port
      const size_t close = entry.find(']');
      if (close == absl::string_view::npos || close == 1 ||
          (close + 1 < entry.size() && entry[close + 1] != ':')) {
        return absl::InvalidArgumentError(absl::StrCat("bad database host '", entry, "'"));
      }
      endpoint.host = std::string(entry.substr(1, close - 1));
      if (close + 1 < entry.size()) {
        port_text = entry.substr(close + 2);
        if (port_text.empty()) {
          return absl::InvalidArgumentError(absl::StrCat("bad database host '", entry, "'"));
        }
      }
    } else if (const size_t colon = entry.find(':');
               colon != absl::string_view::npos && entry.find(':', colon + 1) == entry.npos) {
      endpoint.host = std::string(entry.substr(0, colon));  // host:port
      port_text = entry.substr(colon + 1);
      if (endpoint.host.empty() || port_text.empty()) {
        return absl::InvalidArgumentError(absl::StrCat("bad database host '", entry, "'"));
      }
    }  // else a name, an IPv4 address or a bare IPv6 address: default port
    if (!port_text.empty() && !absl::SimpleAtoi(port_text, &endpoint.port)) {
      return absl::InvalidArgumentError(absl::StrCat("bad port in database host '", entry, "'"));
    }
    if (endpoint.port <= 0 || endpoint.port > 65535) {
      return absl::InvalidArgumentError(
          absl::StrCat("port of database host '", entry, "' must be in 1..65535"));
    }
    endpoints.push_back(std::move(endpoint));
  }
  return endpoints;
}

// ---------------------------------------------------------------------------------------------
// Connection

Connection::Connection(std::unique_ptr<sql::Connection> raw)
    : raw_(std::move(raw)), last_used_(absl::Now()) {}

// Statements must go before the connection they belong to; member order already does that,
// but closing a dead connection can also throw from the connector.
Connection::~Connection() {
  try {
    prepared_.clear();
    statement_.reset();
    raw_.reset();
  } catch (const sql::SQLException&) {  // NOLINT(bugprone-empty-catch): nothing left to do
  }
}

sql::PreparedStatement& Connection::Prepare(std::string_view sql) {
  // absl::string_view, not std::string_view, is what the map's heterogeneous lookup takes.
  auto it = prepared_.find(absl::string_view(sql.data(), sql.size()));
  if (it == prepared_.end()) {
    std::unique_ptr<sql::PreparedStatement> statement(
        raw_->prepareStatement(sql::SQLString(sql.data(), sql.size())));
    it = prepared_.emplace(std::string(sql), std::move(statement)).first;
  }
  it->second->clearParameters();
  return *it->second;
}

absl::Status Connection::Execute(std::string_view sql) {
  try {
    if (statement_ == nullptr) {
      statement_.reset(raw_->createStatement());
    }
    if (statement_->execute(sql::SQLString(sql.data(), sql.size()))) {
      // A result must be read before the next command can be sent.
      std::unique_ptr<sql::ResultSet> ignored(statement_->getResultSet());
    }
    return absl::OkStatus();
  } catch (const sql::SQLException& e) {
    absl::Status status = MapSqlException(e, absl::StrCat("execute ", StatementVerb(sql)));
    if (absl::IsUnavailable(status)) {
      MarkBroken();
    }
    return status;
  }
}

// ---------------------------------------------------------------------------------------------
// Lease

ConnectionPool::Lease::Lease(ConnectionPool* pool, std::unique_ptr<Connection> conn, bool fresh)
    : pool_(pool),
      conn_(std::move(conn)),
      acquiring_thread_(std::this_thread::get_id()),
      errors_at_acquire_(internal::ConnectionErrorsOnThisThread()),
      fresh_(fresh) {}

ConnectionPool::Lease::Lease(Lease&& other) noexcept
    : pool_(std::exchange(other.pool_, nullptr)),
      conn_(std::move(other.conn_)),
      acquiring_thread_(other.acquiring_thread_),
      errors_at_acquire_(other.errors_at_acquire_),
      fresh_(other.fresh_) {}

ConnectionPool::Lease& ConnectionPool::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    Release();
    pool_ = std::exchange(other.pool_, nullptr);
    conn_ = std::move(other.conn_);
    acquiring_thread_ = other.acquiring_thread_;
    errors_at_acquire_ = other.errors_at_acquire_;
    fresh_ = other.fresh_;
  }
  return *this;
}

ConnectionPool::Lease::~Lease() { Release(); }

void ConnectionPool::Lease::Release() {
  if (pool_ == nullptr || conn_ == nullptr) {
    return;
  }
  // A connection-level error mapped on this thread while the lease was held most likely came
  // from this connection: do not hand it to the next caller.
  const bool broken =
      conn_->broken() || (std::this_thread::get_id() == acquiring_thread_ &&
                          internal::ConnectionErrorsOnThisThread() != errors_at_acquire_);
  pool_->Return(std::move(conn_), broken);
  pool_ = nullptr;
}

// ---------------------------------------------------------------------------------------------
// ConnectionPool

std::unique_ptr<ConnectionPool> ConnectionPool::Create(DbConfig config) {
  return std::unique_ptr<ConnectionPool>(new ConnectionPool(std::move(config)));
}

ConnectionPool::ConnectionPool(DbConfig config)
    : config_([&config] {
        config.pool_size = std::max(1, config.pool_size);
        return std::move(config);
      }()),
      endpoints_(EndpointsOf(config_)),
      urls_(UrlsOf(endpoints_)),
      url_(absl::StrJoin(urls_, ",")) {
  idle_.reserve(static_cast<size_t>(config_.pool_size));
}

ConnectionPool::~ConnectionPool() {
  std::lock_guard lock(mu_);
  idle_.clear();
}

absl::StatusOr<std::unique_ptr<Connection>> ConnectionPool::Open() {
  if (endpoints_.size() == 1) {
    return OpenOn(0);
  }
  size_t start = 0;
  {
    std::lock_guard lock(mu_);
    start = current_;
  }
  // Single writer: the current host first, then the next ones of the list in order.
  std::vector<std::string> failures;
  for (size_t i = 0; i < endpoints_.size(); ++i) {
    const size_t index = (start + i) % endpoints_.size();
    absl::StatusOr<std::unique_ptr<Connection>> opened = OpenOn(index);
    if (!opened.ok()) {
      failures.emplace_back(opened.status().message());
      continue;
    }
    if (index != start) {
      std::lock_guard lock(mu_);
      // Several threads may fail over at once: the first one moves the pool, the others agree.
      if (current_ == start) {
        current_ = index;
        ++failovers_;
        // Idle connections to the previous host are not handed out any more (see Acquire).
        validate_before_ = absl::Now();
      }
    }
    return opened;
  }
  return absl::UnavailableError(absl::StrJoin(failures, "; "));
}

absl::StatusOr<std::unique_ptr<Connection>> ConnectionPool::OpenOn(size_t index) {
  const std::string& url = urls_[index];
  sql::mysql::MySQL_Driver* driver = Driver();
  if (driver == nullptr) {
    return absl::InternalError("MySQL Connector/C++ driver unavailable");
  }
  sql::ConnectOptionsMap options;
  options["hostName"] = sql::SQLString(url);
  options["userName"] = sql::SQLString(config_.user);
  options["password"] = sql::SQLString(config_.password);
  if (!config_.schema.empty()) {
    options["schema"] = sql::SQLString(config_.schema);
  }
  options["OPT_CHARSET_NAME"] = sql::SQLString("utf8mb4");
  options["OPT_CONNECT_TIMEOUT"] = WholeSeconds(config_.connect_timeout);
  options["OPT_READ_TIMEOUT"] = WholeSeconds(config_.io_timeout);
  options["OPT_WRITE_TIMEOUT"] = WholeSeconds(config_.io_timeout);
  // A silent reconnect would lose the session settings and any open transaction; the pool
  // replaces dead connections instead.
  options["OPT_RECONNECT"] = false;
  const std::string session_settings = absl::StrCat(
      "SET SESSION time_zone = '+00:00', "
      "SESSION sql_mode = "
      "'STRICT_ALL_TABLES,NO_ZERO_DATE,NO_ZERO_IN_DATE,ERROR_FOR_DIVISION_BY_ZERO,"
      "NO_ENGINE_SUBSTITUTION', "
      "SESSION innodb_lock_wait_timeout = ",
      WholeSeconds(config_.lock_wait_timeout));
  try {
    std::unique_ptr<sql::Connection> raw(driver->connect(options));
    std::unique_ptr<sql::Statement> statement(raw->createStatement());
    statement->execute(sql::SQLString(session_settings));
    // MariaDB 10.11 has no transaction_isolation variable yet; this statement works everywhere.
    statement->execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED");
    if (endpoints_.size() > 1) {
      // A Galera node outside the primary component accepts connections and SET, but answers
      // 1047 to every table access: with a failover list, such a node is skipped now rather
      // than at the first query. (A server with wsrep_on=OFF is always ready.)
      std::unique_ptr<sql::ResultSet> wsrep(
          statement->executeQuery("SHOW GLOBAL VARIABLES LIKE 'wsrep_on'"));
      const bool galera = wsrep->next() && wsrep->getString(2) == "ON";
      wsrep.reset();
      std::unique_ptr<sql::ResultSet> ready;
      if (galera) {
        ready.reset(statement->executeQuery("SHOW GLOBAL STATUS LIKE 'wsrep_ready'"));
      }
      if (galera && (!ready->next() || ready->getString(2) != "ON")) {
        ready.reset();
        statement.reset();
        raw.reset();
        return absl::UnavailableError(absl::StrCat(
            "connect to ", url, ": Galera node not ready (not in the primary component)"));
      }
    }
    raw->setAutoCommit(true);
    statement.reset();
    auto conn = std::make_unique<Connection>(std::move(raw));
    conn->endpoint_ = index;
    return conn;
  } catch (const sql::SQLException& e) {
    // Whatever the reason (server down, bad credentials, unknown schema), the caller cannot get
    // a connection now: that is Unavailable, with the server's reason in the message.
    const absl::Status status = MapSqlException(
        e, absl::StrCat("connect to ", url, " as ", config_.user, "/", config_.schema));
    return absl::UnavailableError(status.message());
  }
}

bool ConnectionPool::Validate(Connection& conn) {
  try {
    return conn.raw().isValid();  // mysql_ping: one round trip, no statement parsing
  } catch (const sql::SQLException&) {
    return false;
  }
}

absl::StatusOr<ConnectionPool::Lease> ConnectionPool::Acquire(absl::Time deadline) {
  EnsureThreadInit();
  std::unique_lock lock(mu_);
  bool counted_wait = false;
  while (true) {
    if (!idle_.empty()) {
      std::unique_ptr<Connection> conn = std::move(idle_.back());
      idle_.pop_back();
      ++in_use_;
      const bool check = conn->last_used_ < validate_before_ ||
                         absl::Now() - conn->last_used_ > config_.validate_after_idle;
      // After a failover, connections to the previous host are closed, not reused: one writer.
      const bool stale = conn->endpoint_ != current_;
      lock.unlock();
      if (!stale && (!check || Validate(*conn))) {
        return Lease(this, std::move(conn), /*fresh=*/false);
      }
      conn.reset();  // close outside the lock: it may take a network round trip
      lock.lock();
      --in_use_;
      --open_;
      ++discarded_;
      validate_before_ = absl::Now();
      continue;
    }
    if (open_ < config_.pool_size) {
      ++open_;
      ++in_use_;
      lock.unlock();
      absl::StatusOr<std::unique_ptr<Connection>> opened = Open();
      if (opened.ok()) {
        return Lease(this, *std::move(opened), /*fresh=*/true);
      }
      lock.lock();
      --open_;
      --in_use_;
      ++connect_failures_;
      // The slot is free again: a waiter may try its luck (and fail fast the same way).
      cv_.notify_one();
      return opened.status();
    }
    if (!counted_wait) {
      ++waits_;
      counted_wait = true;
    }
    if (deadline == absl::InfiniteFuture()) {
      cv_.wait(lock);
    } else if (cv_.wait_until(lock, absl::ToChronoTime(deadline)) == std::cv_status::timeout &&
               idle_.empty() && open_ >= config_.pool_size) {
      return absl::UnavailableError(absl::StrCat("no free database connection to ", url_,
                                                 " before the deadline (pool_size ",
                                                 config_.pool_size, ")"));
    }
  }
}

void ConnectionPool::Return(std::unique_ptr<Connection> conn, bool broken) {
  bool stale = false;
  if (endpoints_.size() > 1) {
    std::lock_guard lock(mu_);
    stale = conn->endpoint_ != current_;  // the pool failed over meanwhile
  }
  if (broken || stale) {
    conn.reset();
    std::lock_guard lock(mu_);
    --in_use_;
    --open_;
    ++discarded_;
    // Its siblings idle in the pool probably died the same way (server restart).
    if (broken) {
      validate_before_ = absl::Now();
    }
    cv_.notify_one();
    return;
  }
  // Prepared statements are only a cache; trimming it between leases keeps a caller that builds
  // SQL dynamically from exhausting the server's statement limit, without ever invalidating a
  // statement a lease holder still references.
  if (conn->prepared_.size() > Connection::kMaxCachedStatements) {
    try {
      conn->prepared_.clear();
    } catch (const sql::SQLException&) {  // NOLINT(bugprone-empty-catch): freeing only
    }
  }
  conn->last_used_ = absl::Now();
  std::lock_guard lock(mu_);
  idle_.push_back(std::move(conn));
  --in_use_;
  cv_.notify_one();
}

absl::Status ConnectionPool::Ping() {
  for (int attempt = 0;; ++attempt) {
    CPTS_ASSIGN_OR_RETURN(Lease lease, Acquire(absl::Now() + config_.connect_timeout));
    absl::Status status = lease->Execute("SELECT 1");
    // A reused connection may have died with the previous server; one fresh try tells whether
    // the database itself is down.
    if (status.ok() || !absl::IsUnavailable(status) || lease.fresh() || attempt > 0) {
      return status;
    }
  }
}

ConnectionPool::Stats ConnectionPool::GetStats() const {
  std::lock_guard lock(mu_);
  return Stats{.open = open_,
               .in_use = in_use_,
               .idle = static_cast<int>(idle_.size()),
               .max = config_.pool_size,
               .waits = waits_,
               .connect_failures = connect_failures_,
               .discarded = discarded_,
               .failovers = failovers_,
               .current_host = static_cast<int>(current_)};
}

}  // namespace cpts::platform::db
