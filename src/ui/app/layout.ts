// Lays a pipeline out as a DAG with dagre (layered, left to right): nodes and datasets as boxes, edges as polylines.
import dagre, { type Edge } from '@dagrejs/dagre';

export interface Vertex {
  id: string;
  label: string;
  kind: 'node' | 'dataset' | 'namespace';
}

export interface PlacedVertex extends Vertex {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface PlacedEdge {
  from: string;
  to: string;
  points: Array<{ x: number; y: number }>;
}

export interface Layout {
  vertices: PlacedVertex[];
  edges: PlacedEdge[];
  width: number;
  height: number;
  ms: number;
}

const CHAR = 7;

export function layoutGraph(vertices: Vertex[], edges: Array<{ from: string; to: string }>): Layout {
  const start = performance.now();
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: 'LR', nodesep: 14, ranksep: 48, marginx: 16, marginy: 16 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const v of vertices) g.setNode(v.id, { width: Math.min(260, 24 + v.label.length * CHAR), height: v.kind === 'dataset' ? 24 : 30 });
  for (const e of edges) if (e.from !== e.to) g.setEdge(e.from, e.to);
  dagre.layout(g);
  const placed = vertices.map((v) => {
    const n = g.node(v.id);
    return { ...v, x: n.x, y: n.y, width: n.width, height: n.height };
  });
  const placedEdges = g.edges().map((e: Edge) => ({ from: e.v, to: e.w, points: g.edge(e).points ?? [] }));
  const gr = g.graph();
  return { vertices: placed, edges: placedEdges, width: gr.width ?? 0, height: gr.height ?? 0, ms: performance.now() - start };
}
