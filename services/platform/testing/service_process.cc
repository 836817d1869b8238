#include "services/platform/testing/service_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"

extern char** environ;

namespace cpts::testing {
namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

int ParseIntAfter(const std::string& text, const std::string& key) {
  const auto pos = text.find("\"" + key + "\":");
  if (pos == std::string::npos) return 0;
  return std::atoi(text.c_str() + pos + key.size() + 3);
}

// fork + execve with stdout/stderr to `log_fd`; returns the child's pid.
absl::StatusOr<pid_t> Spawn(const std::string& binary, const std::vector<std::string>& args,
                            const std::map<std::string, std::string>& env, int log_fd) {
  std::vector<std::string> argv_storage = {binary};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  // Everything execve needs is built before fork: the child of a threaded process may not
  // allocate.
  const auto pointers = [](std::vector<std::string>& strings) {
    std::vector<char*> out;
    out.reserve(strings.size() + 1);
    for (auto& s : strings) out.push_back(s.data());
    out.push_back(nullptr);
    return out;
  };
  std::vector<char*> argv = pointers(argv_storage);
  std::vector<std::string> env_storage;
  for (char** e = environ; *e != nullptr; ++e) env_storage.emplace_back(*e);
  for (const auto& [k, v] : env) env_storage.push_back(absl::StrCat(k, "=", v));
  std::vector<char*> envp = pointers(env_storage);

  const pid_t pid = fork();
  if (pid < 0) return absl::InternalError("fork failed");
  if (pid == 0) {
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    // The test runner may block signals; the child must see SIGTERM by default.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execve(binary.c_str(), argv.data(), envp.data());
    _exit(127);
  }
  return pid;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ServiceProcess>> ServiceProcess::Start(
    const std::string& binary, std::vector<std::string> args,
    const std::map<std::string, std::string>& env, absl::Duration timeout) {
  std::unique_ptr<ServiceProcess> p(new ServiceProcess());
  char tmpl[] = "/tmp/cpts-svc.XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return absl::InternalError("mkdtemp failed");
  p->dir_ = tmpl;
  p->log_path_ = p->dir_ + "/server.log";
  const std::string ready = p->dir_ + "/ready.json";
  // A caller that restarts a server where its clients expect it passes its own --grpc_port.
  if (std::none_of(args.begin(), args.end(),
                   [](const std::string& a) { return a.rfind("--grpc_port=", 0) == 0; })) {
    args.push_back("--grpc_port=0");
  }
  // Test servers stop at once unless the test studies the graceful stop: a lame duck on every
  // stop would add seconds to each end-to-end test.
  if (std::none_of(args.begin(), args.end(),
                   [](const std::string& a) { return a.rfind("--lame_duck=", 0) == 0; })) {
    args.push_back("--lame_duck=0s");
  }
  args.push_back("--http_port=0");
  args.push_back("--http_address=127.0.0.1");
  args.push_back("--grpc_address=127.0.0.1");
  args.push_back("--ready_file=" + ready);
  const int log_fd = open(p->log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (log_fd < 0) return absl::InternalError("cannot open the server log");
  auto pid = Spawn(binary, args, env, log_fd);
  close(log_fd);
  if (!pid.ok()) return pid.status();
  p->pid_ = *pid;
  const absl::Time give_up = absl::Now() + timeout;
  while (absl::Now() < give_up) {
    int status = 0;
    if (waitpid(p->pid_, &status, WNOHANG) == p->pid_) {
      p->pid_ = -1;
      return absl::InternalError(
          absl::StrCat(binary, " exited before serving; log:\n", p->ReadLog()));
    }
    if (std::filesystem::exists(ready)) {
      const std::string text = Slurp(ready);
      p->grpc_port_ = ParseIntAfter(text, "grpc_port");
      p->http_port_ = ParseIntAfter(text, "http_port");
      p->ready_text_ = text;
      if (p->grpc_port_ > 0) return p;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return absl::DeadlineExceededError(
      absl::StrCat(binary, " did not become ready; log:\n", p->ReadLog()));
}

std::string ServiceProcess::ReadLog() const { return Slurp(log_path_); }

int ServiceProcess::ready_port(const std::string& name) const {
  return ParseIntAfter(ready_text_, name);
}

int ServiceProcess::Stop(absl::Duration timeout) {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  const absl::Time give_up = absl::Now() + timeout;
  int status = 0;
  while (absl::Now() < give_up) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return -1;
}

ServiceProcess::~ServiceProcess() {
  Stop();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

absl::StatusOr<CommandResult> RunCommand(const std::string& binary,
                                         const std::vector<std::string>& args,
                                         const std::map<std::string, std::string>& env) {
  char tmpl[] = "/tmp/cpts-cmd.XXXXXX";
  const int fd = mkstemp(tmpl);
  if (fd < 0) return absl::InternalError("mkstemp failed");
  auto pid = Spawn(binary, args, env, fd);
  close(fd);
  if (!pid.ok()) return pid.status();
  int status = 0;
  waitpid(*pid, &status, 0);
  CommandResult result{WIFEXITED(status) ? WEXITSTATUS(status) : -1, Slurp(tmpl)};
  unlink(tmpl);
  return result;
}

}  // namespace cpts::testing
