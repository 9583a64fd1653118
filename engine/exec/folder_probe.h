#pragma once
// Whether a folder takes new files now: for /health, which says when the logs folder cannot be
// written (full disk, lost permissions) before a task fails on it.

#include <filesystem>

#include "engine/util/result.h"

namespace mayaflow {

// Creates the folder when missing, then writes a small file in it (a name of this process's own) and
// removes it. An error says what failed, with the system's reason.
Status probe_writable_folder(const std::filesystem::path& folder);

}  // namespace mayaflow
