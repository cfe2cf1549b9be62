// NewUlid: a ULID (26 characters, Crockford base32: 48-bit millisecond time + 80 random bits),
// the identifier format OpenFGA uses for stores and authorization models. Time and randomness
// come from the gh::Clock and gh::Random seams, so tests get deterministic ids.
#pragma once

#include <string>

#include "common/clock.h"
#include "common/random.h"

namespace gh::authz {

std::string NewUlid(const Clock& clock, Random& random);

}  // namespace gh::authz
