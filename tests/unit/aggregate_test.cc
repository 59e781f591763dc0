// The aggregation pipeline (core/aggregate.h, core/expr.h) on small fixtures: every stage and
// expression operator gives MongoDB's documented result, errors carry the contract's codes, the
// leading $match / $sort use indexes, and the memory limit is an error, not an OOM.
#define BOOST_TEST_MODULE aggregate
#include <boost/test/unit_test.hpp>

#include "core/aggregate.h"
#include "core/ejson.h"
#include "core/expr.h"
#include "storage/memory_storage.h"

using namespace mg;

namespace {

std::string J(std::string_view json) {
  return mp_from_json(json);
}

struct Fixture {
  Collection c{"Items", make_memory_storage()};
  std::vector<ChangeEvent> events;

  explicit Fixture(const char* schema = R"({})") { BOOST_REQUIRE(c.open(MpView(J(schema))).ok()); }
  void insert(std::initializer_list<const char*> docs) {
    std::vector<std::string> enc;
    for (auto* d : docs) enc.push_back(J(d));
    std::vector<std::string_view> views(enc.begin(), enc.end());
    auto r = c.insert_many(views, &events);
    BOOST_REQUIRE_MESSAGE(r.ok(), r.status().message);
  }
  // Runs `pipeline` (JSON) and returns the result as compact JSON, or "ERROR <code>: message".
  std::string run(std::string_view pipeline, AggregateOptions opts = {}) {
    std::string p = J(pipeline);
    auto a = Aggregation::compile(MpView(p), opts);
    if (!a.ok()) return error(a.status());
    auto r = a.value()->run(c);
    if (!r.ok()) return error(r.status());
    BOOST_REQUIRE(r.value());
    std::string out;
    MpWriter w(out);
    w.array_header(uint32_t(a.value()->result_count()));
    a.value()->write_results(w);
    return json_from_mp(out);
  }
  static std::string error(const Status& s) {
    return "ERROR " + std::to_string(int(s.code)) + ": " + s.message;
  }
};

// Evaluates one expression against `doc` and returns its JSON ("missing" when missing).
std::string E(std::string_view expr, std::string_view doc = "{}") {
  try {
    auto e = Expr::compile(MpView(J(expr)));
    std::string d = J(doc), out;
    ExprVars vars;
    vars.root = MpView(d);
    MpView v = e->eval(vars, out);
    if (!v.valid()) return "missing";
    return json_from_mp(v.bytes());
  } catch (const Error& err) {
    return "ERROR " + std::to_string(int(err.status.code));
  }
}

bool starts(const std::string& s, std::string_view prefix) {
  return s.rfind(prefix, 0) == 0;
}

}  // namespace

// MongoDB's $group example (sales): totals, averages, first/last, push, addToSet, min/max.
const char* kSales[] = {
    R"({"_id":1,"item":"abc","price":10,"quantity":2,"date":{"$date":"2014-03-01T08:00:00Z"}})",
    R"({"_id":2,"item":"jkl","price":20,"quantity":1,"date":{"$date":"2014-03-01T09:00:00Z"}})",
    R"({"_id":3,"item":"xyz","price":5,"quantity":10,"date":{"$date":"2014-03-15T09:00:00Z"}})",
    R"({"_id":4,"item":"xyz","price":5,"quantity":20,"date":{"$date":"2014-04-04T11:21:39Z"}})",
    R"({"_id":5,"item":"abc","price":10,"quantity":10,"date":{"$date":"2014-04-04T21:23:13Z"}})"};

struct Sales : Fixture {
  Sales() : Fixture(R"({"fields":{"item":{"type":"string","index":true}}})") {
    for (auto* d : kSales) insert({d});
  }
};

BOOST_FIXTURE_TEST_CASE(group_accumulators, Sales) {
  BOOST_TEST(
      run(R"([{"$group":{"_id":"$item","total":{"$sum":{"$multiply":["$price","$quantity"]}},
      "avgQty":{"$avg":"$quantity"},"n":{"$count":{}},"first":{"$first":"$_id"},
      "last":{"$last":"$_id"},"qs":{"$push":"$quantity"},"prices":{"$addToSet":"$price"},
      "minQ":{"$min":"$quantity"},"maxQ":{"$max":"$quantity"}}},{"$sort":{"_id":1}}])") ==
      R"([{"_id":"abc","total":120,"avgQty":6.0,"n":2,"first":1,"last":5,"qs":[2,10],"prices":[10],"minQ":2,"maxQ":10},)"
      R"({"_id":"jkl","total":20,"avgQty":1.0,"n":1,"first":2,"last":2,"qs":[1],"prices":[20],"minQ":1,"maxQ":1},)"
      R"({"_id":"xyz","total":150,"avgQty":15.0,"n":2,"first":3,"last":4,"qs":[10,20],"prices":[5],"minQ":10,"maxQ":20}])");
  // _id null: one group over everything; $sum of doubles is a double; missing fields ignored.
  BOOST_TEST(run(R"([{"$group":{"_id":null,"n":{"$sum":1},"s":{"$sum":"$nope"},"a":{"$avg":"$nope"},
      "half":{"$sum":0.5},"m":{"$max":"$nope"},"f":{"$first":"$nope"},"p":{"$push":"$nope"}}}])") ==
             R"([{"_id":null,"n":5,"s":0,"a":null,"half":2.5,"m":null,"f":null,"p":[]}])");
  // A compound key, and 1 and 1.0 in one group.
  Fixture g;
  g.insert({R"({"a":1,"b":"x"})", R"({"a":1.0,"b":"x"})", R"({"a":2,"b":"x"})", R"({"b":"y"})"});
  BOOST_TEST(g.run(R"([{"$group":{"_id":"$a","n":{"$sum":1}}}])") ==
             R"([{"_id":1,"n":2},{"_id":2,"n":1},{"_id":null,"n":1}])");
  BOOST_TEST(
      g.run(R"([{"$group":{"_id":{"b":"$b","big":{"$gt":["$a",1]}},"n":{"$sum":1}}}])") ==
      R"([{"_id":{"b":"x","big":false},"n":2},{"_id":{"b":"x","big":true},"n":1},{"_id":{"b":"y","big":false},"n":1}])");
  BOOST_TEST(starts(g.run(R"([{"$group":{"n":{"$sum":1}}}])"),
                    "ERROR 2: a group specification must include an _id"));
  BOOST_TEST(starts(g.run(R"([{"$group":{"_id":null,"n":{"$median":1}}}])"),
                    "ERROR 2: unknown group operator '$median'"));
}

BOOST_FIXTURE_TEST_CASE(match_sort_skip_limit_count, Sales) {
  BOOST_TEST(run(R"([{"$match":{"item":"xyz"}},{"$project":{"_id":1}}])") ==
             R"([{"_id":3},{"_id":4}])");
  BOOST_TEST(
      run(R"([{"$sort":{"quantity":-1,"_id":1}},{"$skip":1},{"$limit":2},{"$project":{"quantity":1}}])") ==
      R"([{"_id":3,"quantity":10},{"_id":5,"quantity":10}])");
  BOOST_TEST(run(R"([{"$match":{"price":{"$gt":5}}},{"$count":"expensive"}])") ==
             R"([{"expensive":3}])");
  BOOST_TEST(run(R"([{"$match":{"price":{"$gt":500}}},{"$count":"none"}])") == "[]");
  // A later $match filters what earlier stages made.
  BOOST_TEST(
      run(R"([{"$group":{"_id":"$item","q":{"$sum":"$quantity"}}},{"$match":{"q":{"$gte":12}}},{"$sort":{"_id":1}}])") ==
      R"([{"_id":"abc","q":12},{"_id":"xyz","q":30}])");
  BOOST_TEST(starts(run(R"([{"$limit":0}])"), "ERROR 2"));
  BOOST_TEST(starts(run(R"([{"$skip":-1}])"), "ERROR 2"));
  BOOST_TEST(starts(run(R"([{"$limit":"x"}])"), "ERROR 14"));
  BOOST_TEST(starts(run(R"([{"$sort":{"a":2}}])"), "ERROR 2"));
  BOOST_TEST(starts(run(R"([{"$frobnicate":{}}])"),
                    "ERROR 2: unrecognized pipeline stage name: '$frobnicate'"));
  BOOST_TEST(starts(run(R"({"a":1})"), "ERROR 14"));
  BOOST_TEST(starts(run(R"([{"$match":{"a":{"$bogus":1}}}])"), "ERROR 2"));
  BOOST_TEST(run("[]").size() > 100);  // an empty pipeline returns every document
}

BOOST_AUTO_TEST_CASE(leading_match_and_sort_use_indexes) {
  Fixture f(R"({"fields":{"n":{"type":"int","index":true},"k":{"type":"string","index":true}}})");
  for (int i = 0; i < 50; ++i) {
    std::string d = R"({"_id":)" + std::to_string(i) + R"(,"n":)" + std::to_string((i * 37) % 50) +
                    R"(,"k":")" + (i % 2 ? "odd" : "even") + R"("})";
    f.insert({d.c_str()});
  }
  QueryStats st;
  bool sorted = false;
  size_t seen = 0;
  std::string flt = J(R"({"k":"odd"})");
  BOOST_REQUIRE(
      f.c.scan(
             MpView(flt), MpView(), [&](const DocRef&) { return ++seen, true; }, &sorted, &st)
          .ok());
  BOOST_TEST(st.plan == "IXSCAN k_1");
  BOOST_TEST(st.docs_examined == 25u);
  BOOST_TEST(seen == 25u);
  std::string srt = J(R"({"n":-1})");
  QueryStats st2;
  std::vector<int64_t> order;
  BOOST_REQUIRE(f.c.scan(
                       MpView(), MpView(srt),
                       [&](const DocRef& d) {
                         order.push_back(d.view().get("n").as_int());
                         return true;
                       },
                       &sorted, &st2)
                    .ok());
  BOOST_TEST(sorted);
  BOOST_TEST(st2.plan == "IXSCAN n_1 (sort)");
  BOOST_TEST(order.front() == 49);
  BOOST_TEST(std::is_sorted(order.rbegin(), order.rend()));
  // Through the pipeline: same answers whichever way the documents were found.
  BOOST_TEST(f.run(R"([{"$sort":{"n":-1}},{"$limit":3},{"$project":{"_id":0,"n":1}}])") ==
             R"([{"n":49},{"n":48},{"n":47}])");
  BOOST_TEST(
      f.run(
          R"([{"$match":{"k":"odd","n":{"$lt":10}}},{"$sort":{"n":1}},{"$project":{"_id":0,"n":1}}])") ==
      R"([{"n":1},{"n":3},{"n":5},{"n":7},{"n":9}])");
}

BOOST_AUTO_TEST_CASE(project_add_fields_unset) {
  Fixture f;
  f.insert(
      {R"({"_id":1,"title":"abc","author":{"first":"a","last":"b"},"copies":5,"tags":["x","y"]})"});
  BOOST_TEST(f.run(R"([{"$project":{"title":1,"author.last":1}}])") ==
             R"([{"_id":1,"title":"abc","author":{"last":"b"}}])");
  BOOST_TEST(
      f.run(
          R"([{"$project":{"_id":0,"title":1,"double":{"$multiply":["$copies",2]},"lit":{"$literal":1}}}])") ==
      R"([{"title":"abc","double":10,"lit":1}])");
  BOOST_TEST(f.run(R"([{"$project":{"author":0,"tags":0}}])") ==
             R"([{"_id":1,"title":"abc","copies":5}])");
  BOOST_TEST(f.run(R"([{"$project":{"_id":0,"n":"$author.first"}}])") == R"([{"n":"a"}])");
  BOOST_TEST(f.run(R"([{"$project":{"_id":0,"gone":"$$REMOVE","x":"$missing"}}])") == R"([{}])");
  BOOST_TEST(starts(f.run(R"([{"$project":{"title":0,"x":1}}])"), "ERROR 2"));
  BOOST_TEST(starts(f.run(R"([{"$project":{}}])"), "ERROR 2"));
  // $addFields merges into embedded documents and overwrites; $set is its alias.
  BOOST_TEST(
      f.run(
          R"([{"$addFields":{"author":{"mid":"m"},"copies":{"$add":["$copies",1]},"n":{"$size":"$tags"}}},{"$project":{"tags":0}}])") ==
      R"([{"_id":1,"title":"abc","author":{"first":"a","last":"b","mid":"m"},"copies":6,"n":2}])");
  BOOST_TEST(f.run(R"([{"$set":{"a.b.c":1}},{"$project":{"a":1,"_id":0}}])") ==
             R"([{"a":{"b":{"c":1}}}])");
  BOOST_TEST(f.run(R"([{"$unset":["author","tags","copies"]}])") == R"([{"_id":1,"title":"abc"}])");
  BOOST_TEST(f.run(R"([{"$unset":"author.first"},{"$project":{"author":1}}])") ==
             R"([{"_id":1,"author":{"last":"b"}}])");
}

BOOST_AUTO_TEST_CASE(unwind) {
  Fixture f;
  f.insert({R"({"_id":1,"sizes":["S","M"]})", R"({"_id":2,"sizes":[]})",
            R"({"_id":3,"sizes":null})", R"({"_id":4})", R"({"_id":5,"sizes":"L"})"});
  BOOST_TEST(f.run(R"([{"$unwind":"$sizes"}])") ==
             R"([{"_id":1,"sizes":"S"},{"_id":1,"sizes":"M"},{"_id":5,"sizes":"L"}])");
  BOOST_TEST(
      f.run(
          R"([{"$unwind":{"path":"$sizes","includeArrayIndex":"i","preserveNullAndEmptyArrays":true}}])") ==
      R"([{"_id":1,"sizes":"S","i":0},{"_id":1,"sizes":"M","i":1},{"_id":2,"i":null},)"
      R"({"_id":3,"sizes":null,"i":null},{"_id":4,"i":null},{"_id":5,"sizes":"L","i":null}])");
  BOOST_TEST(
      f.run(
          R"([{"$unwind":{"path":"$sizes","preserveNullAndEmptyArrays":true}},{"$count":"n"}])") ==
      R"([{"n":6}])");
  BOOST_TEST(starts(f.run(R"([{"$unwind":"sizes"}])"), "ERROR 2"));
}

BOOST_AUTO_TEST_CASE(lookup_self_and_missing) {
  Fixture f;
  f.insert({R"({"_id":1,"name":"ann","boss":null})", R"({"_id":2,"name":"bob","boss":1})",
            R"({"_id":3,"name":"cy","boss":1})", R"({"_id":4,"name":"dee","boss":[2,3]})"});
  // The model looking itself up is answered in place.
  BOOST_TEST(
      f.run(
          R"([{"$lookup":{"from":"Items","localField":"_id","foreignField":"boss","as":"reports"}},
      {"$project":{"r":"$reports._id"}}])") ==
      R"([{"_id":1,"r":[2,3]},{"_id":2,"r":[4]},{"_id":3,"r":[4]},{"_id":4,"r":[]}])");
  // localField null matches foreign null or missing, as in MongoDB.
  BOOST_TEST(
      f.run(
          R"([{"$match":{"_id":1}},{"$lookup":{"from":"Items","localField":"boss","foreignField":"nope","as":"x"}},
      {"$project":{"n":{"$size":"$x"}}}])") == R"([{"_id":1,"n":4}])");
  // Another model: run stops and asks; a model with no documents answers nothing.
  std::string p = J(
      R"([{"$lookup":{"from":"Other","localField":"_id","foreignField":"a","as":"o"}},{"$project":{"o":1}}])");
  auto a = Aggregation::compile(MpView(p));
  BOOST_REQUIRE(a.ok());
  auto r = a.value()->run(f.c);
  BOOST_REQUIRE(r.ok());
  BOOST_TEST(!r.value());
  BOOST_TEST(a.value()->lookup().from == "Other");
  BOOST_TEST(json_from_mp(a.value()->lookup().filter) == R"({"a":{"$in":[1,2,3,4]}})");
  std::string other = J(R"({"_id":"x","a":2})");
  a.value()->provide({DocRef::make(other)});
  r = a.value()->run(f.c);
  BOOST_REQUIRE(r.ok());
  BOOST_TEST(r.value());
  std::string out;
  MpWriter w(out);
  w.array_header(uint32_t(a.value()->result_count()));
  a.value()->write_results(w);
  BOOST_TEST(
      json_from_mp(out) ==
      R"([{"_id":1,"o":[]},{"_id":2,"o":[{"_id":"x","a":2}]},{"_id":3,"o":[]},{"_id":4,"o":[]}])");
  BOOST_TEST(starts(f.run(R"([{"$lookup":{"from":"X","pipeline":[],"as":"y"}}])"), "ERROR 2"));
  BOOST_TEST(starts(f.run(R"([{"$lookup":{"from":"X","localField":"a","as":"y"}}])"), "ERROR 2"));
}

BOOST_AUTO_TEST_CASE(replace_root_facet_bucket_sort_by_count_sample) {
  Fixture f;
  f.insert({R"({"_id":1,"p":{"n":"a","v":10},"tags":["x","y"]})",
            R"({"_id":2,"p":{"n":"b","v":25},"tags":["x"]})",
            R"({"_id":3,"p":{"n":"c","v":40},"tags":["y","x","z"]})",
            R"({"_id":4,"p":{"n":"d","v":"?"},"tags":[]})"});
  BOOST_TEST(f.run(R"([{"$replaceRoot":{"newRoot":"$p"}},{"$limit":2}])") ==
             R"([{"n":"a","v":10},{"n":"b","v":25}])");
  BOOST_TEST(f.run(R"([{"$replaceWith":{"id":"$_id"}},{"$limit":1}])") == R"([{"id":1}])");
  BOOST_TEST(starts(f.run(R"([{"$replaceRoot":{"newRoot":"$tags"}}])"), "ERROR 2"));
  BOOST_TEST(
      f.run(
          R"([{"$facet":{"count":[{"$count":"n"}],"top":[{"$sort":{"_id":-1}},{"$limit":1},{"$project":{"_id":1}}]}}])") ==
      R"([{"count":[{"n":4}],"top":[{"_id":4}]}])");
  BOOST_TEST(starts(f.run(R"([{"$facet":{"a":[{"$facet":{}}]}}])"), "ERROR 2"));
  BOOST_TEST(
      f.run(R"([{"$bucket":{"groupBy":"$p.v","boundaries":[0,20,50],"default":"other",
      "output":{"n":{"$sum":1},"names":{"$push":"$p.n"}}}}])") ==
      R"([{"_id":0,"n":1,"names":["a"]},{"_id":20,"n":2,"names":["b","c"]},{"_id":"other","n":1,"names":["d"]}])");
  BOOST_TEST(f.run(R"([{"$bucket":{"groupBy":"$p.v","boundaries":[0,30],"default":-1}}])") ==
             R"([{"_id":0,"count":2},{"_id":-1,"count":2}])");
  BOOST_TEST(starts(f.run(R"([{"$bucket":{"groupBy":"$p.v","boundaries":[0,100]}}])"), "ERROR 2"));
  BOOST_TEST(starts(f.run(R"([{"$bucket":{"groupBy":"$p.v","boundaries":[5,1]}}])"), "ERROR 2"));
  BOOST_TEST(f.run(R"([{"$unwind":"$tags"},{"$sortByCount":"$tags"}])") ==
             R"([{"_id":"x","count":3},{"_id":"y","count":2},{"_id":"z","count":1}])");
  std::string s = f.run(R"([{"$sample":{"size":2}}])");
  BOOST_TEST(std::count(s.begin(), s.end(), '{') == 4);  // two documents with one subdocument each
  BOOST_TEST(f.run(R"([{"$sample":{"size":10}},{"$count":"n"}])") == R"([{"n":4}])");
  BOOST_TEST(starts(f.run(R"([{"$sample":{"size":-1}}])"), "ERROR 2"));
}

BOOST_AUTO_TEST_CASE(memory_limit_is_an_error) {
  Fixture f;
  std::string big(1000, 'x');
  for (int i = 0; i < 200; ++i) {
    std::string d = R"({"i":)" + std::to_string(i) + R"(,"s":")" + big + R"("})";
    f.insert({d.c_str()});
  }
  AggregateOptions small;
  small.memory_limit = 64 * 1024;
  std::string r = f.run(R"([{"$group":{"_id":null,"all":{"$push":"$s"}}}])", small);
  BOOST_TEST(starts(r, "ERROR 2: aggregate: the pipeline exceeded its memory limit"), r);
  BOOST_TEST(starts(f.run(R"([{"$addFields":{"t":"$s"}}])", small), "ERROR 2"));
  BOOST_TEST(f.run(R"([{"$group":{"_id":null,"n":{"$sum":1}}}])", small) ==
             R"([{"_id":null,"n":200}])");
}

BOOST_AUTO_TEST_CASE(expressions_arithmetic) {
  BOOST_TEST(E(R"({"$add":[1,2,3]})") == "6");
  BOOST_TEST(E(R"({"$add":[1,2.5]})") == "3.5");
  BOOST_TEST(E(R"({"$add":[1,null]})") == "null");
  BOOST_TEST(E(R"({"$add":[1,"$nope"]})") == "null");
  BOOST_TEST(E(R"({"$add":[{"$date":"2020-01-01T00:00:00Z"},86400000]})") ==
             R"({"$date":"2020-01-02T00:00:00.000Z"})");
  BOOST_TEST(E(R"({"$add":[1,"a"]})") == "ERROR 14");
  BOOST_TEST(E(R"({"$add":[9223372036854775807,1]})") == "9223372036854775808.0");
  BOOST_TEST(
      E(R"({"$subtract":[{"$date":"2020-01-02T00:00:00Z"},{"$date":"2020-01-01T00:00:00Z"}]})") ==
      "86400000");
  BOOST_TEST(E(R"({"$subtract":[5,7]})") == "-2");
  BOOST_TEST(E(R"({"$multiply":[2,3,4]})") == "24");
  BOOST_TEST(E(R"({"$divide":[9,2]})") == "4.5");
  BOOST_TEST(E(R"({"$divide":[8,4]})") == "2.0");
  BOOST_TEST(E(R"({"$divide":[1,0]})") == "ERROR 2");
  BOOST_TEST(E(R"({"$mod":[7,3]})") == "1");
  BOOST_TEST(E(R"({"$mod":[-7,3]})") == "-1");
  BOOST_TEST(E(R"({"$mod":[7.5,2]})") == "1.5");
  BOOST_TEST(E(R"({"$mod":[7,0]})") == "ERROR 2");
  BOOST_TEST(E(R"({"$abs":-5})") == "5");
  BOOST_TEST(E(R"({"$ceil":1.2})") == "2.0");
  BOOST_TEST(E(R"({"$floor":-1.2})") == "-2.0");
  BOOST_TEST(E(R"({"$round":[2.5,0]})") == "2.0");
  BOOST_TEST(E(R"({"$round":[3.5]})") == "4.0");
  BOOST_TEST(E(R"({"$round":[1234,-2]})") == "1200");
  BOOST_TEST(E(R"({"$trunc":[7.89,1]})") == "7.8");
  BOOST_TEST(E(R"({"$sqrt":25})") == "5.0");
  BOOST_TEST(E(R"({"$pow":[2,10]})") == "1024");
  BOOST_TEST(E(R"({"$pow":[2,-1]})") == "0.5");
  BOOST_TEST(E(R"({"$frob":[1]})") == "ERROR 2");
  BOOST_TEST(E(R"({"$add":[1],"$x":1})") == "ERROR 2");
  BOOST_TEST(E(R"({"$divide":[1]})") == "ERROR 2");
}

BOOST_AUTO_TEST_CASE(expressions_comparison_boolean_conditional) {
  const char* d = R"({"a":5,"s":"x","n":null})";
  BOOST_TEST(E(R"({"$eq":["$a",5]})", d) == "true");
  BOOST_TEST(E(R"({"$eq":["$a",5.0]})", d) == "true");
  BOOST_TEST(E(R"({"$ne":["$a","5"]})", d) == "true");
  BOOST_TEST(E(R"({"$gt":["$s",100]})", d) == "true");         // strings sort after numbers
  BOOST_TEST(E(R"({"$lt":["$missing",null]})", d) == "true");  // missing below null
  BOOST_TEST(E(R"({"$eq":["$missing",null]})", d) == "false");
  BOOST_TEST(E(R"({"$gte":["$a",5]})", d) == "true");
  BOOST_TEST(E(R"({"$lte":["$a",4]})", d) == "false");
  BOOST_TEST(E(R"({"$cmp":["$a",7]})", d) == "-1");
  BOOST_TEST(E(R"({"$and":[1,"$a",{"$gt":["$a",1]}]})", d) == "true");
  BOOST_TEST(E(R"({"$and":[1,0]})", d) == "false");
  BOOST_TEST(E(R"({"$and":[]})", d) == "true");
  BOOST_TEST(E(R"({"$or":["$n",false,"$missing"]})", d) == "false");
  BOOST_TEST(E(R"({"$or":[null,[]]})", d) == "true");  // an empty array is true
  BOOST_TEST(E(R"({"$not":[0]})", d) == "true");
  BOOST_TEST(E(R"({"$cond":[{"$gt":["$a",3]},"big","small"]})", d) == R"("big")");
  BOOST_TEST(E(R"({"$cond":{"if":"$n","then":1,"else":2}})", d) == "2");
  BOOST_TEST(E(R"({"$cond":{"if":true,"then":1}})", d) == "ERROR 2");
  BOOST_TEST(E(R"({"$ifNull":["$n","$missing","dflt"]})", d) == R"("dflt")");
  BOOST_TEST(E(R"({"$ifNull":["$a","dflt"]})", d) == "5");
  BOOST_TEST(
      E(R"({"$switch":{"branches":[{"case":{"$lt":["$a",0]},"then":"neg"},{"case":{"$gt":["$a",0]},"then":"pos"}],"default":"zero"}})",
        d) == R"("pos")");
  BOOST_TEST(E(R"({"$switch":{"branches":[{"case":false,"then":1}],"default":"zero"}})", d) ==
             R"("zero")");
  BOOST_TEST(E(R"({"$switch":{"branches":[{"case":false,"then":1}]}})", d) == "ERROR 2");
  BOOST_TEST(E(R"({"$literal":"$a"})", d) == R"("$a")");
  BOOST_TEST(E(R"("$$ROOT.a")", d) == "5");
  BOOST_TEST(E(R"("$$nope")", d) == "ERROR 2");
  BOOST_TEST(E(R"({"$let":{"vars":{"x":2},"in":{"$multiply":["$$x","$a"]}}})", d) == "10");
  BOOST_TEST(E(R"(["$a","$missing"])", d) == "[5,null]");
  BOOST_TEST(E(R"("$missing")", d) == "missing");
}

BOOST_AUTO_TEST_CASE(expressions_strings_and_conversion) {
  BOOST_TEST(E(R"({"$concat":["a","-","b"]})") == R"("a-b")");
  BOOST_TEST(E(R"({"$concat":["a",null]})") == "null");
  BOOST_TEST(E(R"({"$concat":["a",1]})") == "ERROR 14");
  BOOST_TEST(E(R"({"$toUpper":"abC1"})") == R"("ABC1")");
  BOOST_TEST(E(R"({"$toLower":"ÀBC"})") == R"("Àbc")");  // ASCII only, as in MongoDB
  BOOST_TEST(E(R"({"$toUpper":null})") == R"("")");
  BOOST_TEST(E(R"({"$substrCP":["cafétéria",0,5]})") == R"("cafét")");
  BOOST_TEST(E(R"({"$substrCP":["abc",1,10]})") == R"("bc")");
  BOOST_TEST(E(R"({"$substrCP":["abc",-1,1]})") == "ERROR 2");
  BOOST_TEST(E(R"({"$strLenCP":"café"})") == "4");
  BOOST_TEST(E(R"({"$split":["June-15-2013","-"]})") == R"(["June","15","2013"])");
  BOOST_TEST(E(R"({"$split":["abc","x"]})") == R"(["abc"])");
  BOOST_TEST(E(R"({"$split":[null,"x"]})") == "null");
  BOOST_TEST(E(R"({"$split":["abc",""]})") == "ERROR 2");
  BOOST_TEST(E(R"({"$trim":{"input":"  ggg  \n"}})") == R"("ggg")");
  BOOST_TEST(E(R"({"$trim":{"input":"xxhixx","chars":"x"}})") == R"("hi")");
  BOOST_TEST(E(R"({"$ltrim":{"input":"  a "}})") == R"("a ")");
  BOOST_TEST(E(R"({"$rtrim":{"input":"  a "}})") == R"("  a")");
  BOOST_TEST(E(R"({"$toString":2.5})") == R"("2.5")");
  BOOST_TEST(E(R"({"$toString":42})") == R"("42")");
  BOOST_TEST(E(R"({"$toString":true})") == R"("true")");
  BOOST_TEST(E(R"({"$toString":{"$date":"2020-05-01T10:00:00Z"}})") ==
             R"("2020-05-01T10:00:00.000Z")");
  BOOST_TEST(E(R"({"$toInt":"123"})") == "123");
  BOOST_TEST(E(R"({"$toInt":9.9})") == "9");
  BOOST_TEST(E(R"({"$toInt":"1x"})") == "ERROR 2");
  BOOST_TEST(E(R"({"$toInt":null})") == "null");
  BOOST_TEST(E(R"({"$toDouble":"2.5"})") == "2.5");
  BOOST_TEST(E(R"({"$toDouble":true})") == "1.0");
  BOOST_TEST(E(R"({"$toDate":0})") == R"({"$date":"1970-01-01T00:00:00.000Z"})");
  BOOST_TEST(E(R"({"$toDate":"2021-02-03T04:05:06Z"})") ==
             R"({"$date":"2021-02-03T04:05:06.000Z"})");
  BOOST_TEST(E(R"({"$toDate":"yesterday"})") == "ERROR 2");
  BOOST_TEST(E(R"({"$toDate":true})") == "ERROR 14");
  BOOST_TEST(E(R"({"$type":"$missing"})") == R"("missing")");
  BOOST_TEST(E(R"({"$type":1})") == R"("int")");
  BOOST_TEST(E(R"({"$type":5000000000})") == R"("long")");
  BOOST_TEST(E(R"({"$type":1.5})") == R"("double")");
  BOOST_TEST(E(R"({"$type":[[1]]})") == R"("array")");
  BOOST_TEST(E(R"({"$type":{"$literal":{"a":1}}})") == R"("object")");
}

BOOST_AUTO_TEST_CASE(expressions_arrays) {
  const char* d = R"({"a":[1,2,3,4],"o":[{"x":1},{"x":2},{"y":3}]})";
  BOOST_TEST(E(R"({"$size":"$a"})", d) == "4");
  BOOST_TEST(E(R"({"$size":"$missing"})", d) == "ERROR 14");
  BOOST_TEST(E(R"({"$arrayElemAt":["$a",0]})", d) == "1");
  BOOST_TEST(E(R"({"$arrayElemAt":["$a",-1]})", d) == "4");
  BOOST_TEST(E(R"({"$arrayElemAt":["$a",15]})", d) == "missing");
  BOOST_TEST(E(R"({"$filter":{"input":"$a","as":"n","cond":{"$gte":["$$n",3]}}})", d) == "[3,4]");
  BOOST_TEST(E(R"({"$filter":{"input":"$a","cond":{"$gte":["$$this",2]},"limit":1}})", d) == "[2]");
  BOOST_TEST(E(R"({"$map":{"input":"$a","as":"n","in":{"$multiply":["$$n",10]}}})", d) ==
             "[10,20,30,40]");
  BOOST_TEST(E(R"({"$map":{"input":null,"in":1}})", d) == "null");
  BOOST_TEST(E(R"({"$map":{"input":"$a","in":"$$nope"}})", d) == "ERROR 2");
  BOOST_TEST(E(R"({"$in":[2,"$a"]})", d) == "true");
  BOOST_TEST(E(R"({"$in":[9,"$a"]})", d) == "false");
  BOOST_TEST(E(R"({"$in":[2,"$missing"]})", d) == "ERROR 14");
  BOOST_TEST(E(R"({"$slice":["$a",2]})", d) == "[1,2]");
  BOOST_TEST(E(R"({"$slice":["$a",-2]})", d) == "[3,4]");
  BOOST_TEST(E(R"({"$slice":["$a",1,2]})", d) == "[2,3]");
  BOOST_TEST(E(R"({"$slice":["$a",-3,2]})", d) == "[2,3]");
  BOOST_TEST(E(R"("$o.x")", d) == "[1,2]");  // a path through an array collects the values
  BOOST_TEST(E(R"({"$concatArrays":["$a",[5]]})", d) == "[1,2,3,4,5]");
  BOOST_TEST(E(R"({"$mergeObjects":[{"a":1,"b":1},{"b":2}]})", d) == R"({"a":1,"b":2})");
}

BOOST_AUTO_TEST_CASE(expressions_dates) {
  const char* d = R"({"t":{"$date":"2014-01-01T08:15:39.736Z"}})";
  BOOST_TEST(E(R"({"$year":"$t"})", d) == "2014");
  BOOST_TEST(E(R"({"$month":"$t"})", d) == "1");
  BOOST_TEST(E(R"({"$dayOfMonth":"$t"})", d) == "1");
  BOOST_TEST(E(R"({"$hour":"$t"})", d) == "8");
  BOOST_TEST(E(R"({"$hour":{"date":"$t","timezone":"-09:00"}})", d) == "23");
  BOOST_TEST(E(R"({"$dayOfMonth":{"date":"$t","timezone":"-09:00"}})", d) == "31");
  BOOST_TEST(E(R"({"$dayOfWeek":"$t"})", d) == "4");  // a Wednesday
  BOOST_TEST(E(R"({"$year":"$missing"})", d) == "null");
  BOOST_TEST(E(R"({"$year":"x"})", d) == "ERROR 14");
  BOOST_TEST(E(R"({"$hour":{"date":"$t","timezone":"Europe/Paris"}})", d) == "ERROR 2");
  BOOST_TEST(E(R"({"$dateToString":{"format":"%Y-%m-%d %H:%M:%S.%L","date":"$t"}})", d) ==
             R"("2014-01-01 08:15:39.736")");
  BOOST_TEST(E(R"({"$dateToString":{"date":"$t"}})", d) == R"("2014-01-01T08:15:39.736Z")");
  BOOST_TEST(E(R"({"$dateToString":{"format":"%j %w %z","date":"$t","timezone":"+05:30"}})", d) ==
             R"("001 4 +0530")");
  BOOST_TEST(E(R"({"$dateToString":{"date":"$missing","onNull":"none"}})", d) == R"("none")");
  BOOST_TEST(E(R"({"$dateToString":{"date":"$t","format":"%Q"}})", d) == "ERROR 2");
  BOOST_TEST(E(R"({"$dateTrunc":{"date":"$t","unit":"hour"}})", d) ==
             R"({"$date":"2014-01-01T08:00:00.000Z"})");
  BOOST_TEST(E(R"({"$dateTrunc":{"date":"$t","unit":"month"}})", d) ==
             R"({"$date":"2014-01-01T00:00:00.000Z"})");
  BOOST_TEST(E(R"({"$dateTrunc":{"date":"$t","unit":"minute","binSize":15}})", d) ==
             R"({"$date":"2014-01-01T08:15:00.000Z"})");
  BOOST_TEST(E(R"({"$dateTrunc":{"date":"$t","unit":"week"}})", d) ==
             R"({"$date":"2013-12-29T00:00:00.000Z"})");
  BOOST_TEST(E(R"({"$dateTrunc":{"date":"$t","unit":"week","startOfWeek":"monday"}})", d) ==
             R"({"$date":"2013-12-30T00:00:00.000Z"})");
  BOOST_TEST(E(R"({"$dateTrunc":{"date":"$t","unit":"quarter","binSize":2}})", d) ==
             R"({"$date":"2014-01-01T00:00:00.000Z"})");
  BOOST_TEST(E(R"({"$dateTrunc":{"date":"$t","unit":"year","binSize":5}})", d) ==
             R"({"$date":"2010-01-01T00:00:00.000Z"})");
  BOOST_TEST(E(R"({"$dateTrunc":{"date":"$t","unit":"fortnight"}})", d) == "ERROR 2");
}

BOOST_AUTO_TEST_CASE(expressions_dates_at_the_ends_of_the_range) {
  // The largest and smallest dates a document can hold: BadValue, never overflowing arithmetic.
  const char* far = R"({"t":{"$date":{"$numberLong":"9223372036854775807"}},)"
                    R"("u":{"$date":{"$numberLong":"-9223372036854775808"}}})";
  BOOST_TEST(E(R"({"$year":"$t"})", far) == "ERROR 2");
  BOOST_TEST(E(R"({"$year":"$u"})", far) == "ERROR 2");
  BOOST_TEST(E(R"({"$hour":{"date":"$t","timezone":"+23:59"}})", far) == "ERROR 2");
  BOOST_TEST(E(R"({"$dateToString":{"date":"$u","timezone":"-23:00"}})", far) == "ERROR 2");
  BOOST_TEST(E(R"({"$dateTrunc":{"date":"$t","unit":"day"}})", far) == "ERROR 2");
  // In range, with bins far longer than the range of dates: the bin at the reference point.
  const char* d = R"({"t":{"$date":"2014-01-01T08:15:39.736Z"}})";
  BOOST_TEST(E(R"({"$dateTrunc":{"date":"$t","unit":"week","binSize":9223372036854775807}})", d) ==
             R"({"$date":"2000-01-02T00:00:00.000Z"})");  // the first Sunday
  BOOST_TEST(E(R"({"$dateTrunc":{"date":"$t","unit":"year","binSize":9223372036854775807}})", d) ==
             R"({"$date":"2000-01-01T00:00:00.000Z"})");
  BOOST_TEST(E(R"({"$dateTrunc":{"date":"$t","unit":"millisecond","binSize":4611686018427387904}})",
               d) == R"({"$date":"2000-01-01T00:00:00.000Z"})");
  BOOST_TEST(E(R"({"$year":{"$dateTrunc":{"date":"$t","unit":"year","binSize":20000}}})", d) ==
             "2000");
  // A bin starting 30,000 years before 2000 is out of the range of dates.
  BOOST_TEST(E(R"({"$dateTrunc":{"date":"$u","unit":"year","binSize":30000}})",
               R"({"u":{"$date":"1000-01-01T00:00:00.000Z"}})") == "ERROR 2");
}

BOOST_AUTO_TEST_CASE(smoke) {
  Fixture f;
  f.insert({R"({"_id":1,"city":"Paris","score":2})", R"({"_id":2,"city":"Oslo","score":3.5})",
            R"({"_id":3,"city":"Paris","score":4})"});
  BOOST_TEST(f.run(R"([{"$group":{"_id":"$city","avg":{"$avg":"$score"},"n":{"$sum":1}}}])") ==
             R"([{"_id":"Paris","avg":3.0,"n":2},{"_id":"Oslo","avg":3.5,"n":1}])");
}
