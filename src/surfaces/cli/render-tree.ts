/** A node of a readable tree: a label and its children. */
export interface TreeNode {
  label: string;
  children?: TreeNode[];
}

/** Draws a tree with box-drawing branches, one node per line. */
export function renderTree(root: TreeNode): string {
  const lines = [root.label];
  const walk = (nodes: TreeNode[], prefix: string) => {
    nodes.forEach((node, i) => {
      const last = i === nodes.length - 1;
      lines.push(`${prefix}${last ? "└─ " : "├─ "}${node.label}`);
      if (node.children?.length) walk(node.children, `${prefix}${last ? "   " : "│  "}`);
    });
  };
  walk(root.children ?? [], "");
  return `${lines.join("\n")}\n`;
}

const MAX_TEXT = 160;
const MAX_ITEMS = 50;

/** One line of text, clipped: a tree shows values, the `--json` output holds them whole. */
export function clip(text: string, max = MAX_TEXT): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function scalar(value: unknown): string | undefined {
  if (value === null || value === undefined) return "—";
  if (typeof value === "string") return JSON.stringify(clip(value));
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value) && value.length === 0) return "[]";
  if (Array.isArray(value) && value.every((v) => v === null || ["string", "number", "boolean"].includes(typeof v))) {
    return clip(value.map((v) => (typeof v === "string" ? v : String(v))).join(", "));
  }
  if (typeof value === "object" && Object.keys(value).length === 0) return "{}";
  return undefined;
}

/** A JSON value (a trace payload) as tree nodes: scalars inline, objects and arrays nested. */
export function valueNodes(value: unknown): TreeNode[] {
  if (Array.isArray(value)) {
    const nodes = value.slice(0, MAX_ITEMS).map((item, i) => {
      const inline = scalar(item);
      return inline !== undefined ? { label: `[${i}] ${inline}` } : { label: `[${i}]`, children: valueNodes(item) };
    });
    if (value.length > MAX_ITEMS) nodes.push({ label: `… ${value.length - MAX_ITEMS} more (see --json)` });
    return nodes;
  }
  if (typeof value === "object" && value !== null) {
    return Object.entries(value).map(([key, v]) => {
      const inline = scalar(v);
      return inline !== undefined ? { label: `${key}: ${inline}` } : { label: `${key}:`, children: valueNodes(v) };
    });
  }
  return [{ label: scalar(value) ?? String(value) }];
}

export function formatScope(scope: Record<string, string> | null): string {
  if (!scope) return "(Context-wide)";
  const entries = Object.entries(scope);
  return entries.length === 0 ? "{}" : `{${entries.map(([k, v]) => `${k}=${v}`).join(", ")}}`;
}
