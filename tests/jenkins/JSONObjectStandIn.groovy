// What pipeline-utility-steps' readJSON returns for an object without returnPojo.
/** net.sf.json.JSONObject, as readJSON returns it without returnPojo. */
class JSONObjectStandIn extends LinkedHashMap {
}
