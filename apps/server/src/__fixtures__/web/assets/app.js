// A stand-in for a built asset of the web app, served by `convkit serve --web`.
document.getElementById('convkit-web-fixture').textContent = 'convkit web fixture loaded';
