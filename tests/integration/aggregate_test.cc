// aggregate through the daemon (CONTRACT.md §5): $lookup between two models of a database (the
// model actor asks the other model's actor), a model looking itself up, a missing foreign model
// giving [], two models looking each other up at the same time without a deadlock, errors by
// code, and a pipeline on a persistent database after a restart.
#define BOOST_TEST_MODULE integration_aggregate
#include "tests/integration/harness.h"

using namespace mg::it;

BOOST_TEST_GLOBAL_FIXTURE(SharedDaemon);

namespace {

std::string docs_json(const std::vector<std::string>& docs) {
  std::string out = "[";
  for (auto& d : docs) out += (out.size() > 1 ? "," : "") + js(d);
  return out + "]";
}

std::vector<std::string> aggregate(Client& c, std::string_view db, const std::string& model,
                                   std::string_view pipeline) {
  return c.aggregate(db, model, J(pipeline));
}

}  // namespace

BOOST_FIXTURE_TEST_CASE(lookup_across_two_models, OnSharedDaemon) {
  std::string users = model + "U", orders = model + "O";
  c.insert_many("", users, {J(R"({"_id":1,"name":"ada"})"), J(R"({"_id":2,"name":"bob"})")});
  c.insert_many("", orders,
                {J(R"({"_id":10,"user":1,"total":5})"), J(R"({"_id":11,"user":2,"total":7})"),
                 J(R"({"_id":12,"user":1,"total":1.5})"), J(R"({"_id":13,"user":9,"total":1})")});
  std::string p = R"([{"$lookup":{"from":")" + orders +
                  R"(","localField":"_id","foreignField":"user","as":"orders"}},
      {"$project":{"name":1,"ids":"$orders._id","n":{"$size":"$orders"}}},{"$sort":{"_id":1}}])";
  BOOST_TEST(
      docs_json(aggregate(c, "", users, p)) ==
      canon(
          R"([{"_id":1,"name":"ada","ids":[10,12],"n":2},{"_id":2,"name":"bob","ids":[11],"n":1}])"));
  // The other direction, then $unwind + $group over the joined documents.
  std::string q = R"([{"$lookup":{"from":")" + users +
                  R"(","localField":"user","foreignField":"_id","as":"u"}},
      {"$unwind":{"path":"$u","preserveNullAndEmptyArrays":true}},
      {"$group":{"_id":{"$ifNull":["$u.name","nobody"]},"total":{"$sum":"$total"}}},{"$sort":{"_id":1}}])";
  BOOST_TEST(
      docs_json(aggregate(c, "", orders, q)) ==
      canon(R"([{"_id":"ada","total":6.5},{"_id":"bob","total":7},{"_id":"nobody","total":1}])"));
  // A foreign model that does not exist: [] like MongoDB.
  std::string none =
      R"([{"$lookup":{"from":"NoSuchModel","localField":"_id","foreignField":"x","as":"z"}},
      {"$project":{"z":1}},{"$sort":{"_id":1}}])";
  BOOST_TEST(docs_json(aggregate(c, "", users, none)) ==
             canon(R"([{"_id":1,"z":[]},{"_id":2,"z":[]}])"));
  // The model itself.
  std::string self = R"([{"$lookup":{"from":")" + orders +
                     R"(","localField":"user","foreignField":"user","as":"same"}},
      {"$project":{"n":{"$size":"$same"}}},{"$sort":{"_id":1}}])";
  BOOST_TEST(docs_json(aggregate(c, "", orders, self)) ==
             canon(R"([{"_id":10,"n":2},{"_id":11,"n":1},{"_id":12,"n":2},{"_id":13,"n":1}])"));
}

// Two models looking each other up, many times, pipelined: every reply comes (no deadlock).
BOOST_FIXTURE_TEST_CASE(mutual_lookups_do_not_deadlock, OnSharedDaemon) {
  std::string a = model + "A", b = model + "B";
  c.insert_many("", a, {J(R"({"_id":1,"k":1})"), J(R"({"_id":2,"k":2})")});
  c.insert_many("", b, {J(R"({"_id":1,"k":2})")});
  auto lookup = [](const std::string& from) {
    return J(R"([{"$lookup":{"from":")" + from +
             R"(","localField":"k","foreignField":"k","as":"o"}},{"$count":"n"}])");
  };
  int answered = 0, good = 0;
  for (int i = 0; i < 100; ++i) {
    for (auto [m, other] : {std::pair{a, b}, std::pair{b, a}}) {
      c.send_async(Request("aggregate", "", m).arg("pipeline", lookup(other)), [&, m = m](Reply r) {
        ++answered;
        good +=
            js(r.root().get("docs")) == (m == a ? canon(R"([{"n":2}])") : canon(R"([{"n":1}])"));
      });
    }
  }
  c.drain();
  BOOST_TEST(answered == 200);
  BOOST_TEST(good == 200);
}

BOOST_FIXTURE_TEST_CASE(errors_by_code, OnSharedDaemon) {
  c.insert_one("", model, J(R"({"a":1})"));
  Error e =
      EXPECT_ERROR(c, Request("aggregate", "", model).arg("pipeline", J(R"([{"$frob":{}}])")), 2);
  BOOST_TEST(std::string(e.what()).find("$frob") != std::string::npos);
  e = EXPECT_ERROR(
      c, Request("aggregate", "", model).arg("pipeline", J(R"([{"$project":{"x":{"$nope":1}}}])")),
      2);
  BOOST_TEST(std::string(e.what()).find("$nope") != std::string::npos);
  EXPECT_ERROR(c, Request("aggregate", "", model).arg("pipeline", J(R"({"$match":{}})")), 14);
  EXPECT_ERROR(c,
               Request("aggregate", "", model)
                   .arg("pipeline", J(R"([{"$project":{"x":{"$divide":["$a",0]}}}])")),
               2);
  EXPECT_ERROR(c,
               Request("aggregate", "", model)
                   .arg("pipeline", J(R"([{"$project":{"x":{"$add":["$a","s"]}}}])")),
               14);
  EXPECT_ERROR(c, Request("aggregate", "nodb", model).arg("pipeline", J("[]")), 26);
}

// A pipeline over a persistent database after a restart: the data, its types and the indexes
// are back, and the leading $match uses the index.
BOOST_FIXTURE_TEST_CASE(pipeline_after_restart, OwnDaemon) {
  start();
  std::string storage;
  {
    Client c(daemon->req_endpoint(), client_options());
    std::string storages = js(c.hello().get("storages"));
    for (const char* s : {"file", "sqlite"})
      if (storage.empty() && storages.find('"' + std::string(s) + '"') != std::string::npos)
        storage = s;
    BOOST_TEST_REQUIRE(!storage.empty());
    BOOST_TEST(c.create_database("keep", storage));
    c.define_model("keep", model, J(R"({"fields":{"city":{"type":"string","index":true}}})"));
    std::vector<std::string> docs;
    for (int i = 0; i < 30; ++i)
      docs.push_back(J(R"({"_id":)" + std::to_string(i) + R"(,"city":")" +
                       (i % 3 ? "Oslo" : "Rome") + R"(","score":)" + std::to_string(i) +
                       R"(,"at":{"$date":"2024-0)" + std::to_string(1 + i % 2) +
                       R"(-15T10:00:00Z"}})"));
    c.insert_many("keep", model, docs);
    c.insert_many("keep", model + "City",
                  {J(R"({"_id":"Oslo","country":"NO"})"), J(R"({"_id":"Rome","country":"IT"})")});
  }
  BOOST_TEST_REQUIRE(daemon->stop() == 0);
  daemon->start();
  Client c(daemon->req_endpoint(), client_options());
  std::string p = R"([{"$match":{"city":"Oslo"}},
      {"$group":{"_id":{"$month":"$at"},"n":{"$sum":1},"avg":{"$avg":"$score"},"max":{"$max":"$score"}}},
      {"$sort":{"_id":1}}])";
  BOOST_TEST(
      docs_json(aggregate(c, "keep", model, p)) ==
      canon(R"([{"_id":1,"n":10,"avg":15.0,"max":28},{"_id":2,"n":10,"avg":15.0,"max":29}])"));
  std::string q = R"([{"$sortByCount":"$city"},{"$lookup":{"from":")" + model +
                  R"(City","localField":"_id","foreignField":"_id","as":"c"}},
      {"$project":{"count":1,"country":{"$arrayElemAt":["$c.country",0]}}}])";
  BOOST_TEST(
      docs_json(aggregate(c, "keep", model, q)) ==
      canon(
          R"([{"_id":"Oslo","count":20,"country":"NO"},{"_id":"Rome","count":10,"country":"IT"}])"));
}
