#pragma once
// The simulator speaks HTTP through the shared server of net/.
#include "net/http_server.h"

namespace learnloop::sim {

using SimRequest = net::Request;
using SimReply = net::Reply;
using net::HttpPost;
using net::HttpServer;
using net::ParseForm;
using net::PostResult;
using net::UrlEncode;

}  // namespace learnloop::sim
