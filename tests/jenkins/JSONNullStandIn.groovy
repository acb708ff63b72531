// What pipeline-utility-steps' readJSON returns without returnPojo: net.sf.json
// objects. PipelineStandIn.readJSON uses these; a file of their own so the
// tests can name them.
/** net.sf.json.JSONNull: what readJSON gives for a JSON null without returnPojo. */
class JSONNullStandIn {
  static final JSONNullStandIn INSTANCE = new JSONNullStandIn()
  String toString() { return 'null' }
}
