#pragma once
// The Viva Engage Data Export API (reference §1.10): `GET /api/v1/export?since=…` answers a
// ZIP of CSV files (Messages, Users, Groups, Topics, Admins) for the whole network.
#include "sim/http_server.h"
#include "sim/world.h"

namespace learnloop::sim {

// `admin`: the token belongs to a verified admin (anyone else gets 403). Call with the world
// locked.
SimReply DataExport(const World& world, const SimRequest& r, bool admin);

}  // namespace learnloop::sim
