#pragma once
// The limits that keep one DAG file from taking the daemon's memory, time or stack, whatever it
// holds (docs/dag-format.md, "Limits"). Each is checked before the work it guards is done where
// the size is known in advance (for_each lists are counted and multiplied before any task is
// built), and as the work goes where it is not.

#include <cstddef>

namespace mayaflow {

// A DAG file, and each file it includes.
inline constexpr std::size_t kMaxDagFileBytes = 4 * 1024 * 1024;
inline constexpr std::size_t kMaxIncludeFileBytes = 4 * 1024 * 1024;
// All the different files one DAG includes, together (each is read once per load).
inline constexpr std::size_t kMaxIncludedBytesPerDag = 16 * 1024 * 1024;
// Files that include files: a DAG file including a.yaml including b.yaml is two levels.
inline constexpr int kMaxIncludeDepth = 8;

// Tasks in one DAG, counted over the whole DAG after for_each expansion (groups included).
inline constexpr std::size_t kMaxTasksPerDag = 10'000;
// Items in one for_each list.
inline constexpr std::size_t kMaxForEachItems = 10'000;
// depends_on names written (after for_each), and the task-to-task dependencies they stand for once
// groups are expanded (a group of 5,000 tasks depended on by 5,000 others would be 25 million).
inline constexpr std::size_t kMaxDependenciesPerDag = 100'000;
// Task groups inside task groups.
inline constexpr int kMaxGroupDepth = 32;
// The text of a value fixed when the DAG loads (a task_id, group, pool, dependency or template file
// name, which may use for_each variables), before it is rendered.
inline constexpr std::size_t kMaxStaticTemplateBytes = 4096;
// Template work (tmpl::kMaxWork units) for rendering all those values in one DAG together.
inline constexpr std::size_t kMaxStaticRenderWorkPerDag = 20'000'000;
// Text held by the tasks' parameters, over the whole DAG: a 4 MiB script included by a for_each of
// 10,000 tasks would otherwise be 40 GiB.
inline constexpr std::size_t kMaxTaskTextBytesPerDag = 64 * 1024 * 1024;

// YAML nodes turned into values: in one value (alias bombs), and in the whole DAG.
inline constexpr std::size_t kMaxNodesPerValue = 200'000;
inline constexpr std::size_t kMaxNodesPerDag = 2'000'000;
// Levels of nesting in one value, counted across included files.
inline constexpr int kMaxValueDepth = 64;

// Errors listed for one file (the rest are counted), and the length of one message.
inline constexpr std::size_t kMaxErrorsPerFile = 50;
inline constexpr std::size_t kMaxMessageBytes = 1000;

}  // namespace mayaflow
