#include "steps/push-artifact/push_artifact.hpp"

#include <sys/stat.h>

#include <chrono>
#include <map>

#include "runner/core/ci.hpp"
#include "runner/core/log.hpp"
#include "runner/core/manifest.hpp"
#include "runner/store/store.hpp"
#include "runner/util/duration.hpp"
#include "runner/util/sha256.hpp"

namespace switchyard::steps::push_artifact {
namespace {

// The store settings: artifact.* after the configuration's precedence (the
// flags are in its flag layer), else the default file store.
Result<StoreOptions> resolve_store(const Config& config) {
  StoreOptions store = s3_store_options(config);
  store.uri = config.find("artifact.store").value_or(default_store_uri());
  if (store.uri.rfind("s3://", 0) != 0 && store.uri.rfind("file://", 0) != 0) {
    return usage_error(store.uri + " (" + config.origin("artifact.store") +
                       "): unknown store; use file:///dir or s3://bucket/prefix");
  }
  return store;
}

// The manifest for `file`: the one build-jar wrote beside it, else one made
// from the flags and the file's own hash.
Result<Manifest> resolve_manifest(const Flags& options, const Config& config, std::uint64_t size) {
  std::filesystem::path file = options.file;
  // --app names the app of a file without a manifest; beside one, it must agree.
  std::string app_flag = config.origin("app") == "--app" ? config.find("app").value_or("") : "";
  auto manifest_file = manifest_path_for(file);
  std::error_code error;
  if (std::filesystem::exists(manifest_file, error)) {
    auto manifest = read_manifest(manifest_file);
    if (!manifest) return manifest.error();
    if (!app_flag.empty() && app_flag != manifest->app) {
      return usage_error(manifest_file.string() + ": names app " + manifest->app +
                         " but --app says " + app_flag + "; drop --app or rebuild");
    }
    if (!options.release.empty() && options.release != manifest->version) {
      return usage_error(manifest_file.string() + ": names release " + manifest->version +
                         " but --release says " + options.release + "; drop --release or rebuild");
    }
    if (manifest->size != size) {
      return usage_error(options.file + ": is " + std::to_string(size) +
                         " bytes but its manifest says " + std::to_string(manifest->size) +
                         "; the file changed after the build, rebuild it");
    }
    // The stored name is the file's own, so the manifest must agree with it.
    manifest->file = file.filename().string();
    return *manifest;
  }

  Manifest manifest;
  manifest.app = config.find("app").value_or(file.stem().string());
  manifest.version = options.release;
  manifest.file = file.filename().string();
  manifest.size = size;
  if (manifest.version.empty()) {
    return usage_error(options.file + ": no manifest beside it (" + manifest_file.string() +
                       ") and no --release; pass --release LABEL or build with "
                       "switchyard-build-jar");
  }
  log::info("{}: no manifest beside it; using app {} and release {} from the flags", options.file,
            manifest.app, manifest.version);
  return manifest;
}

Result<void> check_labels(const Manifest& manifest) {
  if (!is_artifact_label(manifest.app)) {
    return usage_error("--app " + manifest.app +
                       ": an app name may hold only letters, digits, '.', '_' and '-'");
  }
  if (!is_artifact_label(manifest.version)) {
    return usage_error("--release " + manifest.version +
                       ": a release label may hold only letters, digits, '.', '_' and '-'");
  }
  return {};
}

void fill_result(StepContext& context, const PushOutcome& outcome, const Manifest& manifest,
                 const StoreOptions& store) {
  context.result["artifact_uri"] = outcome.artifact_uri;
  context.result["manifest_uri"] = outcome.manifest_uri;
  context.result["sha256"] = outcome.sha256;
  context.result["size"] = outcome.size;
  context.result["app"] = manifest.app;
  context.result["version"] = manifest.version;
  context.result["store"] = store.uri;
  context.result["already_present"] = outcome.already_present;
  if (!outcome.presigned_url.empty()) context.result["presigned_url"] = outcome.presigned_url;
}

void report_transfer(const PushOutcome& outcome, double seconds) {
  double mib = static_cast<double>(outcome.size) / (1024.0 * 1024.0);
  double rate = seconds > 0 ? mib / seconds : 0;
  if (outcome.already_present) {
    log::info("{}: already stored with the same sha256; nothing to do", outcome.artifact_uri);
  } else {
    log::info("{}: stored {} bytes in {:.2f}s ({:.1f} MiB/s)", outcome.artifact_uri, outcome.size,
              seconds, rate);
  }
  ci().add_summary(fmt::format(
      "| artifact | size | sha256 | time | rate |\n|---|---|---|---|---|\n"
      "| `{}` | {:.1f} MiB | `{}` | {:.2f}s | {} |\n",
      outcome.artifact_uri, mib, outcome.sha256, seconds,
      outcome.already_present ? std::string("already stored") : fmt::format("{:.1f} MiB/s", rate)));
}

}  // namespace

void add_flags(CLI::App& app, CommonOptions& common, Flags& options) {
  app.add_option("FILE", options.file,
                 "the artifact to store (its manifest is read from beside it)")
      ->required();
  add_config_flag(
      app, common, "--store", "artifact.store",
      "file:///dir or s3://bucket/prefix (artifact.store; default: " + default_store_uri() + ")")
      ->type_name("URI");
  add_config_flag(app, common, "--app", "app",
                  "app name when FILE has no manifest (default: its base name)")
      ->type_name("NAME");
  app.add_option("--release", options.release,
                 "the release label when FILE has no manifest (with one, it must agree)")
      ->type_name("LABEL");
  add_s3_store_flags(app, common);
  app.add_option("--presign", options.presign,
                 "also print a presigned GET URL valid this long (e.g. 1h; s3:// only)");
  app.add_flag("--force", options.force,
               "replace different bytes already stored under the same version");
  app.footer(std::string(k_exit_codes_help) +
             "\n"
             "How push-artifact's failures map to them:\n"
             "  1    the store kept failing (5xx after retries; the multipart upload is aborted)\n"
             "  2    no --release without a manifest, a file that no longer matches its manifest,\n"
             "       different bytes under a stored version (without --force), no such bucket\n"
             "  3    no credentials, access denied (403), clock skew, endpoint unreachable\n"
             "\n"
             "Store layout: <store>/<app>/<version>/<file> and <file>.manifest.json (written\n"
             "last). s3://: one PUT up to 8 MiB, else multipart (parts of max(8 MiB,\n"
             "size/10000), 8 in flight, each with x-amz-checksum-sha256).\n");
}

Result<void> push(StepContext& context, const Flags& options) {
  // Read the artifact and its manifest
  struct stat info {};
  if (::stat(options.file.c_str(), &info) != 0 || !S_ISREG(info.st_mode)) {
    return usage_error(options.file + ": no such file; give the path of the built artifact");
  }
  auto size = static_cast<std::uint64_t>(info.st_size);
  auto config = context.load_config();
  if (!config) return config.error();
  auto manifest = resolve_manifest(options, *config, size);
  if (!manifest) return manifest.error();
  if (auto checked = check_labels(*manifest); !checked) return checked.error();

  // Choose the store
  auto store = resolve_store(*config);
  if (!store) return store.error();
  PushRequest request;
  request.file = options.file;
  request.force = options.force;
  if (!options.presign.empty()) {
    auto lifetime = parse_duration(options.presign);
    if (!lifetime) {
      return usage_error("--presign " + options.presign + ": " + lifetime.error().message);
    }
    request.presign = *lifetime;
  }

  // A dry run hashes the file, checking it against its manifest. A push
  // without a manifest leaves the hash to the store, which computes it while
  // it reads the bytes, so the file is read once.
  if (context.options.dry_run) {
    auto sha256 = sha256_file(options.file);
    if (!sha256) return sha256.error();
    if (!manifest->sha256.empty() && manifest->sha256 != *sha256) {
      return usage_error(options.file + ": sha256 " + *sha256 + " does not match its manifest's " +
                         manifest->sha256 + "; the file changed after the build, rebuild it");
    }
    manifest->sha256 = *sha256;
  }
  request.manifest = *manifest;

  if (context.options.dry_run) {
    auto planned = planned_push(request, *store);
    if (!planned) return planned.error();
    log::info("{}: would store {} bytes (sha256 {}) (dry run)", planned->artifact_uri,
              planned->size, planned->sha256);
    fill_result(context, *planned, *manifest, *store);
    context.result["dry_run"] = true;
    return {};
  }

  // Push
  auto started = std::chrono::steady_clock::now();
  auto pushed = switchyard::push_artifact(request, *store);
  if (!pushed) return pushed.error();
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  report_transfer(*pushed, seconds);
  manifest->sha256 = pushed->sha256;
  fill_result(context, *pushed, *manifest, *store);
  return {};
}

int run(int argc, char** argv) {
  CLI::App app{"Store a built artifact and its manifest (file:// or s3://) for hosts to fetch.",
               "switchyard-push-artifact"};
  CommonOptions common;
  Flags flags;
  add_common_options(app, common, /*changes_anything=*/true);
  add_flags(app, common, flags);
  return run_step("push-artifact", app, common, argc, argv,
                  [&](StepContext& context) { return push(context, flags); });
}

}  // namespace switchyard::steps::push_artifact
