#pragma once

#include <cppconn/connection.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/statement.h>

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace cpts::platform::db {

// One database server of a DbConfig's host list.
struct DbEndpoint {
  std::string host;
  int port = 0;
  bool operator==(const DbEndpoint&) const = default;
};

// Parses a host list "h1:p1,h2:p2,h3" (an entry without a port uses default_port; an IPv6
// address goes in brackets: "[::1]:3306"). InvalidArgument on an empty list or entry, or a port
// outside 1..65535.
absl::StatusOr<std::vector<DbEndpoint>> ParseDbHosts(std::string_view hosts, int default_port);

struct DbConfig {
  // One host, or an ordered failover list "h1:p1,h2:p2,h3" (see ParseDbHosts; entries without a
  // port use `port`). With a list, the pool is a single writer: it opens every connection on ONE
  // host, the first of the list that accepts a connection and is ready (a Galera node that is
  // not part of the primary component is skipped), and moves to the next hosts only when that
  // host stops accepting connections or stops being ready. It stays on the new host afterwards
  // (no return to the first one: no flapping); docs/availability.md says why.
  std::string host = "127.0.0.1";
  int port = 3307;
  std::string user;
  std::string password;
  std::string schema;
  int pool_size = 16;  // max open connections
  absl::Duration connect_timeout = absl::Seconds(3);
  // Ping a connection idle longer than this before handing it out: the server may have
  // restarted or closed it (wait_timeout) meanwhile.
  absl::Duration validate_after_idle = absl::Seconds(5);
  // Client read/write timeouts, so that a dead server fails calls instead of hanging them.
  // A migrator running long DDL needs more (see RunMigrations).
  absl::Duration io_timeout = absl::Seconds(30);
  // innodb_lock_wait_timeout of each session: shorter than io_timeout so that a lock wait ends
  // as a retryable 1205 rather than as a client timeout that throws the connection away.
  absl::Duration lock_wait_timeout = absl::Seconds(10);
};

// One live connection; not thread-safe; used through a ConnectionPool::Lease.
// Session settings of every connection: autocommit on, time_zone '+00:00', READ COMMITTED,
// strict sql_mode, utf8mb4, innodb_lock_wait_timeout from the config.
class Connection final {
 public:
  // Wraps an open connection whose session is already set up.
  explicit Connection(std::unique_ptr<sql::Connection> raw);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Server-side prepared statement cached per connection by SQL text; pass constants. The
  // reference stays valid for the whole lease. Parameters are cleared before it is returned.
  // Throws sql::SQLException (preparing talks to the server): call it inside your catch
  // boundary, as every other connector call.
  sql::PreparedStatement& Prepare(std::string_view sql);

  // Runs one statement without parameters (DDL, SET, COMMIT...) and discards any result.
  // Errors are mapped by MapSqlException; a connection-level error marks the connection broken.
  absl::Status Execute(std::string_view sql);

  sql::Connection& raw() { return *raw_; }

  // The pool will discard this connection instead of reusing it.
  void MarkBroken() { broken_ = true; }
  bool broken() const { return broken_; }

 private:
  friend class ConnectionPool;

  // Beyond this many distinct texts the cache is emptied when the connection returns to the pool.
  static constexpr size_t kMaxCachedStatements = 256;

  std::unique_ptr<sql::Connection> raw_;
  std::unique_ptr<sql::Statement> statement_;  // for Execute, created on first use
  absl::flat_hash_map<std::string, std::unique_ptr<sql::PreparedStatement>> prepared_;
  bool broken_ = false;
  size_t endpoint_ = 0;  // index in the pool's host list
  absl::Time last_used_;
};

// A bounded pool of connections to one schema. Thread-safe. Connections are opened lazily, on
// demand, and a connection that failed with a connection-level error is discarded, so the pool
// recovers by itself after the server restarts. The pool must outlive its leases.
class ConnectionPool final {
 public:
  // Never fails: nothing is opened here, so a service can start before its database.
  static std::unique_ptr<ConnectionPool> Create(DbConfig config);

  ~ConnectionPool();
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // Exclusive use of one connection until destroyed, which returns it to the pool (or discards
  // it when broken). A connection-level error mapped by MapSqlException on the acquiring thread
  // while the lease is held marks the connection broken automatically (a lease handed to another
  // thread relies on MarkBroken() or on validation instead).
  class Lease final {
   public:
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&& other) noexcept;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease();

    Connection& operator*() { return *conn_; }
    Connection* operator->() { return conn_.get(); }
    Connection* get() { return conn_.get(); }
    // True when the connection was opened for this lease rather than reused.
    bool fresh() const { return fresh_; }

   private:
    friend class ConnectionPool;
    Lease(ConnectionPool* pool, std::unique_ptr<Connection> conn, bool fresh);
    void Release();

    ConnectionPool* pool_ = nullptr;
    std::unique_ptr<Connection> conn_;
    std::thread::id acquiring_thread_;
    uint64_t errors_at_acquire_ = 0;
    bool fresh_ = false;
  };

  // Unavailable when no connection can be opened (database down, wrong credentials...) or when
  // the deadline passes while waiting for a free one.
  absl::StatusOr<Lease> Acquire(absl::Time deadline = absl::InfiniteFuture());

  // Acquire (waiting at most connect_timeout) + "SELECT 1". Unavailable when the database is
  // down. A reused connection that turns out dead is replaced once, so a restarted server
  // answers the first ping.
  absl::Status Ping();

  struct Stats {
    int open;                  // connections open, leased or idle
    int in_use;                // leased
    int idle;                  // open and waiting in the pool
    int max;                   // pool_size
    int64_t waits;             // Acquire calls that had to wait for a free connection
    int64_t connect_failures;  // failed attempts to open a connection
    int64_t discarded;         // connections thrown away (broken or failed validation)
    int64_t failovers;         // moves of the pool to another host of the list
    int current_host;          // index in the host list of the host new connections go to
  };
  Stats GetStats() const;

  const DbConfig& config() const { return config_; }
  // The parsed host list (one entry for a single host).
  const std::vector<DbEndpoint>& endpoints() const { return endpoints_; }

 private:
  explicit ConnectionPool(DbConfig config);

  // Opens a connection on the current host, or else on the next hosts of the list in order;
  // the host that accepted becomes the current one.
  absl::StatusOr<std::unique_ptr<Connection>> Open();
  absl::StatusOr<std::unique_ptr<Connection>> OpenOn(size_t index);
  // Cheap liveness check of an idle connection before it is handed out.
  static bool Validate(Connection& conn);
  void Return(std::unique_ptr<Connection> conn, bool broken);

  const DbConfig config_;
  const std::vector<DbEndpoint> endpoints_;
  const std::vector<std::string> urls_;  // tcp://host:port of each endpoint
  const std::string url_;                // all of them, for messages

  mutable std::mutex mu_;
  std::condition_variable cv_;
  // LIFO: the most recently used connection is the most likely to be alive and warm.
  // Reserved to pool_size, so Acquire/Return do not allocate.
  std::vector<std::unique_ptr<Connection>> idle_;
  int open_ = 0;  // leased + idle + being opened
  int in_use_ = 0;
  int64_t waits_ = 0;
  int64_t connect_failures_ = 0;
  int64_t discarded_ = 0;
  int64_t failovers_ = 0;
  size_t current_ = 0;  // index in endpoints_ of the host new connections go to
  // Idle connections last used before this instant are validated before being handed out: it
  // moves when a connection is found dead, since its siblings probably are too.
  absl::Time validate_before_ = absl::InfinitePast();
};

}  // namespace cpts::platform::db
