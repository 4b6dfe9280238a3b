// Compat shim for `k6/execution`: the harness runs each iteration in its own context.
import { executionContext } from "../../registry";

export default executionContext;
