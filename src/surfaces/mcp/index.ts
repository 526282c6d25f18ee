export { createMcpServer, type McpServerOptions } from "./mcp-server.js";
