#pragma once
// How an export's chunks reach the database, one write at a time (docs/firebase.md, "How a put
// replaces a path"):
//   patch  each chunk is PATCHed at the path: members named by the rows are replaced, others stay.
//          Not atomic as a whole; every chunk may be sent again, so a retry converges.
//   put    one chunk: a single PUT at the path, atomic in Firebase.
//          more: the chunks are written to the staging path <path>__staging_<try> beside it (left
//          over staging paths of earlier tries are removed first), the staging path's keys are
//          checked, then the swap: when the whole export fits one write (max_write_bytes), one
//          multi-location PATCH at the parent sets the path to the whole tree and removes the
//          staging path — atomic; readers see the old tree or the new one. Larger exports are
//          published chunk by chunk (a PUT, then PATCHes) only after every chunk was accepted in
//          staging; if publishing fails, the path is deleted, so no partial tree is left (the old
//          content is gone by then), and the next try writes it whole.
// A failure before the swap leaves the path as it was.

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/util/result.h"
#include "operators/firebase/firebase_database.h"

namespace mayaflow::firebase {

struct ExportWrite {
    std::vector<std::string> path;
    bool put = true;
    std::vector<std::string> chunks;  // split_into_chunks
    std::vector<std::string> keys;    // every key the chunks hold
    std::size_t max_write_bytes = 16 * 1024 * 1024;
    int try_number = 1;
};

// "<name>__staging_<try>" for the path's last key.
std::string staging_key(const std::string& name, int try_number);

// The chunks' members as one JSON object text.
std::string merge_chunks(const std::vector<std::string>& chunks);

using WriteLog = std::function<void(const std::string&)>;
using StopCheck = std::function<bool()>;  // true: stop before the next request
// Runs the writes; `done` gets {"write_mode", "chunks", "writes", "bytes", "swap"} or the error.
void write_export(std::shared_ptr<FirebaseDatabase> database, ExportWrite plan, WriteLog log, StopCheck stopping,
                  std::function<void(Result<nlohmann::json>)> done);

}  // namespace mayaflow::firebase
