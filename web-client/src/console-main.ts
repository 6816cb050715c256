// The operator console page's entry: console.html places <siprelay-console>.
import './components/siprelay-console.js';
