// The "Follow the leader" button, in the lane of a node that leads an older epoch or follows
// another leader: `POST /admin/follow` with the current leader's URL, through the dashboard.
import { nameOf } from "./cluster.js";
import { el, setAttr, setText, show } from "./dom.js";

/** The button of the node at `index`; shown only while its part says following the leader makes sense (`rejoin`). */
export function makeFollowButton(index, send) {
  let name = "";
  let target = null;
  const node = el("button", {
    type: "button",
    class: "rejoin",
    onclick: () => {
      const [who, to] = [name, target];
      void send((t) => `${who}: ${t.followLeader} → ${to.name}`, `/api/nodes/${index}/follow`, { leaderUrl: to.url });
    },
  });
  return {
    node,
    render(t, state) {
      name = nameOf(state, index);
      const { leader } = state.leadership;
      target = leader === null ? null : { name: nameOf(state, leader), url: state.nodes[leader].url };
      show(node, target !== null && state.leadership.nodes[index].rejoin);
      setText(node, t.followLeader);
      setAttr(node, "title", target ? `POST /admin/follow {"leaderUrl": "${target.url}"}` : null);
    },
  };
}
