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

namespace switchyard {
namespace {

struct Resolved {
  StoreOptions store;
  PushRequest request;
};

// switchyard.yml with the flags on top (flags win over the environment's
// section, the top level and the defaults).
Result<Config> load_config(const StepContext& context, const PushArtifactOptions& options) {
  std::map<std::string, std::string> flags;
  if (!options.store.empty()) flags["artifact.store"] = options.store;
  if (!options.endpoint.empty()) flags["artifact.endpoint"] = options.endpoint;
  if (!options.region.empty()) flags["artifact.region"] = options.region;
  if (!options.profile.empty()) flags["artifact.profile"] = options.profile;
  if (!options.app.empty()) flags["app"] = options.app;
  return context.load_config(flags);
}

// The store settings: flags win over switchyard.yml (artifact.*), which wins
// over the default file store.
Result<StoreOptions> resolve_store(const Config& config, const PushArtifactOptions& options) {
  // The flag's own value is taken first, so a flag wins even where the
  // configuration has no opinion about it.
  auto pick = [&](const std::string& flag, std::string_view key, std::string fallback) {
    if (!flag.empty()) return flag;
    return config.find(key).value_or(std::move(fallback));
  };
  StoreOptions store;
  store.uri = pick(options.store, "artifact.store", default_store_uri());
  store.endpoint = pick(options.endpoint, "artifact.endpoint", "");
  store.region = pick(options.region, "artifact.region", "");
  store.profile = pick(options.profile, "artifact.profile", "");
  if (store.uri.rfind("s3://", 0) != 0 && store.uri.rfind("file://", 0) != 0) {
    std::string origin = options.store.empty() ? config.origin("artifact.store") : "--store";
    return usage_error(store.uri + " (" + origin +
                       "): unknown store; use file:///dir or s3://bucket/prefix");
  }
  return store;
}

// The manifest for `file`: the one build-jar wrote beside it, else one made
// from the flags and the file's own hash.
Result<Manifest> resolve_manifest(const PushArtifactOptions& options, const Config& config,
                                  std::uint64_t size) {
  std::filesystem::path file = options.file;
  auto manifest_file = manifest_path_for(file);
  std::error_code error;
  if (std::filesystem::exists(manifest_file, error)) {
    auto manifest = read_manifest(manifest_file);
    if (!manifest) return manifest.error();
    if (!options.app.empty() && options.app != manifest->app) {
      return usage_error(manifest_file.string() + ": names app " + manifest->app +
                         " but --app says " + options.app + "; drop --app or rebuild");
    }
    if (!options.version.empty() && options.version != manifest->version) {
      return usage_error(manifest_file.string() + ": names version " + manifest->version +
                         " but --version says " + options.version + "; drop --version or rebuild");
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
  manifest.version = options.version;
  manifest.file = file.filename().string();
  manifest.size = size;
  if (manifest.version.empty()) {
    return usage_error(options.file + ": no manifest beside it (" + manifest_file.string() +
                       ") and no --version; pass --version or build with switchyard-build-jar");
  }
  log::info("{}: no manifest beside it; using app {} and version {} from the flags", options.file,
            manifest.app, manifest.version);
  return manifest;
}

Result<void> check_labels(const Manifest& manifest) {
  if (!is_artifact_label(manifest.app)) {
    return usage_error("--app " + manifest.app +
                       ": an app name may hold only letters, digits, '.', '_' and '-'");
  }
  if (!is_artifact_label(manifest.version)) {
    return usage_error("--version " + manifest.version +
                       ": a version may hold only letters, digits, '.', '_' and '-'");
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

void add_push_artifact_options(CLI::App& app, PushArtifactOptions& options) {
  app.add_option("FILE", options.file,
                 "the artifact to store (its manifest is read from beside it)")
      ->required();
  app.add_option(
      "--store", options.store,
      "file:///dir or s3://bucket/prefix (artifact.store; default: " + default_store_uri() + ")");
  app.add_option("--app", options.app,
                 "app name when FILE has no manifest (default: its base name)");
  // --version names the artifact's version here; alone, it still prints the
  // program's version as every step's --version does.
  app.set_version_flag();
  app.add_option(
         "--version",
         [&options](const CLI::results_t& values) {
           if (values.empty() || values.front().empty()) {
             throw CLI::CallForVersion("switchyard-push-artifact " SWITCHYARD_VERSION, 0);
           }
           options.version = values.front();
           return true;
         },
         "version when FILE has no manifest (alone: print the program's version)")
      ->expected(0, 1)
      ->trigger_on_parse();
  app.add_option("--endpoint", options.endpoint,
                 "S3-compatible endpoint URL, path-style addressing (artifact.endpoint)");
  app.add_option("--region", options.region, "AWS region (artifact.region)");
  app.add_option("--profile", options.profile, "AWS profile (artifact.profile)");
  app.add_option("--presign", options.presign,
                 "also print a presigned GET URL valid this long (e.g. 1h; s3:// only)");
  app.add_flag("--force", options.force,
               "replace different bytes already stored under the same version");
  app.footer(std::string(k_exit_codes_help) +
             "\n"
             "How push-artifact's failures map to them:\n"
             "  1    the store kept failing (5xx after retries; the multipart upload is aborted)\n"
             "  2    no --version without a manifest, a file that no longer matches its manifest,\n"
             "       different bytes under a stored version (without --force), no such bucket\n"
             "  3    no credentials, access denied (403), clock skew, endpoint unreachable\n"
             "\n"
             "Store layout: <store>/<app>/<version>/<file> and <file>.manifest.json (written\n"
             "last). s3://: one PUT up to 8 MiB, else multipart (parts of max(8 MiB,\n"
             "size/10000), 8 in flight, each with x-amz-checksum-sha256).\n");
}

Result<void> push_artifact_step(StepContext& context, const PushArtifactOptions& options) {
  // Read the artifact and its manifest
  struct stat info {};
  if (::stat(options.file.c_str(), &info) != 0 || !S_ISREG(info.st_mode)) {
    return usage_error(options.file + ": no such file; give the path of the built artifact");
  }
  auto size = static_cast<std::uint64_t>(info.st_size);
  auto config = load_config(context, options);
  if (!config) return config.error();
  auto manifest = resolve_manifest(options, *config, size);
  if (!manifest) return manifest.error();
  if (auto checked = check_labels(*manifest); !checked) return checked.error();

  // Choose the store
  auto store = resolve_store(*config, options);
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
  auto pushed = push_artifact(request, *store);
  if (!pushed) return pushed.error();
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  report_transfer(*pushed, seconds);
  manifest->sha256 = pushed->sha256;
  fill_result(context, *pushed, *manifest, *store);
  return {};
}

}  // namespace switchyard
