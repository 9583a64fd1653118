#pragma once
// Early returns for Status and Result in the store's code, where nearly every line can fail.

#define MAYAFLOW_TRY(expr)                         \
    do {                                           \
        auto status_ = (expr);                     \
        if (!status_.ok()) return status_.error(); \
    } while (0)

// A cached prepared statement, reset when the scope ends.
#define MAYAFLOW_PREPARE(var, db, sql)                 \
    auto var##_result = (db).prepare_cached(sql);      \
    if (!var##_result) return var##_result.error();    \
    sqlite::StatementUse var##_use(*var##_result);     \
    auto& var = **var##_result
