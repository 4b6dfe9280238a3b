// Compat shim for `k6/execution`: the harness sets the iteration it runs.
import { executionContext } from "../../registry";

export default executionContext;
