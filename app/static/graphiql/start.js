// GraphiQL on /graphql, from our own copies of its files (app/static/graphiql/README.md): no
// CDN, no inline script, so it works offline and under the page's Content-Security-Policy.
// Headers typed in the headers pane (an API key) stay in this tab: they are not persisted.
(function () {
  "use strict";
  var url = window.location.origin + window.location.pathname;
  var fetcher = GraphiQL.createFetcher({ url: url });
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultEditorToolsVisibility: true,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
      inputValueDeprecation: true,
    })
  );
})();
