// actors/fan_out.h — asks several actors the same question and replies to a client once all
// have answered (listModels, stats, flush). Each target answers a std::string; an actor that
// is gone counts as "". The combined reply goes to the ReplySink; nothing blocks.
#pragma once

#include <caf/all.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "actors/reply_sink.h"

namespace mg {

using Combine = std::function<std::string(std::vector<std::string>&)>;

void fan_out(caf::actor_system& sys, std::vector<caf::actor> targets, caf::message question,
             Combine combine, std::shared_ptr<ReplySink> sink, Route route);

}  // namespace mg
