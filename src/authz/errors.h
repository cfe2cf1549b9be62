// OpenFGA's error vocabulary as gh::Status values. error_code() carries OpenFGA's code
// ("validation_error", "type_not_found", ...) so the HTTP layer can answer with OpenFGA's JSON
// error shape ({"code": ..., "message": ...}) and status. Messages follow OpenFGA's wording.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace gh::authz::errors {

// 400s
Status ValidationError(std::string message);            // validation_error
Status InvalidAuthorizationModel(std::string message);  // invalid_authorization_model
Status TypeNotFound(std::string_view type);             // type_not_found
Status RelationNotFound(std::string_view relation, std::string_view type);  // relation_not_found
Status InvalidTuple(std::string_view tuple, std::string_view reason);       // invalid_tuple
Status WriteFailedDueToInvalidInput(std::string message);  // write_failed_due_to_invalid_input
Status DuplicateTupleInRequest(
    std::string_view tuple);                      // cannot_allow_duplicate_tuples_in_one_request
Status InvalidContinuationToken();                // invalid_continuation_token
Status ExceededEntityLimit(std::string message);  // exceeded_entity_limit
Status ResolutionTooComplex();                    // authorization_model_resolution_too_complex
Status ConditionEvaluationFailed(std::string message);  // validation_error (condition)
// 404s
Status StoreNotFound(std::string_view store_id);        // store_id_not_found
Status ModelNotFound(std::string_view model_id);        // authorization_model_not_found
Status LatestModelNotFound(std::string_view store_id);  // latest_authorization_model_not_found
// 500
Status Internal(std::string message);

}  // namespace gh::authz::errors
