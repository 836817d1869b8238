#pragma once

#include <algorithm>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace cpts::platform::auth {

// Role names as they appear in the token's `roles` claim. Services add their own roles
// (e.g. "triage_nurse", "treasurer") as plain strings; these are the shared ones.
namespace roles {
inline constexpr std::string_view kPlatformAdmin = "platform_admin";
inline constexpr std::string_view kCoordinator = "coordinator";
inline constexpr std::string_view kBureauMember = "bureau_member";
inline constexpr std::string_view kMember = "member";
inline constexpr std::string_view kPublicForm = "public_form";
inline constexpr std::string_view kService = "service";
inline constexpr std::string_view kReporting = "reporting";
}  // namespace roles

// Who is calling, as proven by a verified token. The tenant always comes from here, never
// from a request body.
struct Principal {
  std::string tenant_id;  // the CPTS; empty only for a platform admin acting across tenants
  std::string subject;    // `sub` claim: a person's account or "service:<name>"
  std::string member_id;  // the caller's member record in this tenant, if any
  std::vector<std::string> roles;

  bool HasRole(std::string_view role) const {
    return std::find(roles.begin(), roles.end(), role) != roles.end();
  }
  bool HasAnyRole(std::initializer_list<std::string_view> wanted) const {
    return std::any_of(wanted.begin(), wanted.end(),
                       [this](std::string_view r) { return HasRole(r); });
  }
};

}  // namespace cpts::platform::auth
